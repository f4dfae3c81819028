"""One module per figure; each exposes `async def run(...) -> dict` returning its JSON entry."""
