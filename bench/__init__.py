"""`make bench`: RoleCall's worker against a bare livekit-agents baseline, on loopback.

Modules: `stats` (percentiles), `marks` (marked audio: bursts and onset detection), `roles` (the
bench role), `stack` (livekit-server, the simulator in a thread, worker processes), `participant`
(the Python participant playing the page), `tap` (reads the simulator's records), `figures/*` (one
module per figure), `report` and `render` (JSON, Markdown, plots), `__main__` (the command line and
the order). `redispatch_wait` is the deployment figure (README, "When a worker dies mid-session").
"""
