// Drives Debian's Chromium with playwright-core through one scenario of the demo, against the real
// stack started by tests/browser/conftest.py. Prints one JSON line: {ok, scenario, observed, screenshots,
// console, error}; pytest asserts on it.
//
//   APP_URL=http://localhost:PORT WAV=/tmp/pasta.wav ARTIFACTS=tests/artifacts/browser \
//     node tests/browser/run.mjs voice|timer|handoff|failing-tool|kitchen-and-return|hand-tick|hold
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

// playwright-core is installed in the frontend workspace, not next to this file.
const require = createRequire(new URL("../../frontend/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const scenario = process.argv[2];
const appUrl = process.env.APP_URL;
const artifacts = process.env.ARTIFACTS ?? "tests/artifacts/browser";
const wav = process.env.WAV;
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const STEP_TIMEOUT = Number(process.env.STEP_TIMEOUT_MS ?? 30_000);

const result = { ok: false, scenario, observed: {}, screenshots: [], console: [], error: null };
mkdirSync(artifacts, { recursive: true });
const profile = mkdtempSync(join(tmpdir(), "rolecall-chromium-"));

const args = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--use-fake-device-for-media-stream",
  "--use-fake-ui-for-media-stream",
  "--autoplay-policy=no-user-gesture-required",
  ...(wav ? [`--use-file-for-fake-audio-capture=${wav}%noloop`] : []),
];

let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args,
    viewport: { width: 1280, height: 800 },
    permissions: ["microphone"],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(STEP_TIMEOUT);
  page.on("console", (msg) => {
    if (["error", "warning"].includes(msg.type())) result.console.push(`${msg.type()}: ${msg.text()}`.slice(0, 500));
  });
  page.on("pageerror", (error) => result.console.push(`pageerror: ${error.message}`.slice(0, 500)));

  const shot = async (name) => {
    const path = join(artifacts, `${scenario}-${name}.png`);
    await page.screenshot({ path });
    result.screenshots.push(path);
  };
  const agentLines = () =>
    page.$$eval('[data-testid="transcript-line"][data-speaker="agent"]', (els) => els.map((e) => e.textContent ?? ""));
  const waitForAgentText = async (pattern) => {
    await page.waitForFunction(
      (source) => {
        const re = new RegExp(source, "i");
        return [...document.querySelectorAll('[data-testid="transcript-line"][data-speaker="agent"]')].some((e) =>
          re.test(e.textContent ?? ""),
        );
      },
      pattern,
    );
  };
  const type = async (text) => {
    await page.fill('[data-testid="chat-input"]', text);
    await page.click('[data-testid="chat-send"]');
  };

  // --- start a session with the cooking guide, microphone off until the greeting is over -----------
  await page.goto(appUrl);
  await page.waitForSelector('[data-testid="role-cooking-guide"]');
  await shot("1-picker");
  await page.click('[data-testid="role-cooking-guide"]');
  await page.check('[data-testid="join-muted"]');
  await page.click('[data-testid="connect"]');
  await page.waitForSelector('[data-testid="connection"]:has-text("Live")');
  await waitForAgentText("cooking guide");
  await page.waitForSelector('[data-testid="agent-state"][data-state="listening"]');
  result.observed.greeting = (await agentLines())[0];
  result.observed.personaBefore = await page.textContent('[data-testid="persona-title"]');

  if (scenario === "voice") {
    // Unmuting opens the fake microphone, which plays the WAV once from its start.
    await page.click('[data-testid="mic-toggle"]');
    await page.waitForSelector('[data-testid="recipe-title"]', { timeout: 60_000 });
    await page.waitForSelector('[data-testid="transcript-line"][data-speaker="user"]');
    result.observed.recipeTitle = await page.textContent('[data-testid="recipe-title"]');
    result.observed.ingredients = await page.$$eval('[data-testid="ingredient"]', (els) => els.length);
    result.observed.steps = await page.$$eval('[data-testid="step"]', (els) => els.length);
    result.observed.userLines = await page.$$eval('[data-testid="transcript-line"][data-speaker="user"]', (els) =>
      els.map((e) => e.textContent ?? ""),
    );
    await waitForAgentText("on your screen");
    await shot("2-recipe");
  } else if (scenario === "timer") {
    await type('/call start_timer {"label":"eggs","seconds":30}');
    const timer = '[data-testid="timer"][data-label="eggs"]';
    await page.waitForSelector(timer);
    const first = Number(await page.getAttribute(timer, "data-remaining"));
    await shot("2-started");
    await page.waitForFunction(
      ([selector, start]) => Number(document.querySelector(selector)?.getAttribute("data-remaining")) < start,
      [timer, first],
    );
    const later = Number(await page.getAttribute(timer, "data-remaining"));
    result.observed.timer = { first, later, clock: await page.textContent(`${timer} [data-testid="timer-clock"]`) };
    result.observed.toolLine = await page.getAttribute('[data-testid="transcript-line"][data-method="start_timer"]', "data-ok");
    await shot("3-counting");
  } else if (scenario === "handoff") {
    await type("pasta");
    await page.waitForSelector('[data-testid="recipe-title"]');
    const accent = () => page.$eval(".persona-title", (e) => getComputedStyle(e).color);
    result.observed.accentBefore = await accent();
    await shot("2-cooking");
    await type("Which wine would go with it?");
    await page.waitForSelector('[data-testid="persona"][data-role="sommelier"]');
    await page.waitForFunction(() => document.querySelector('[data-testid="persona-title"]')?.textContent === "Sommelier");
    await waitForAgentText("sommelier");
    result.observed.personaAfter = await page.textContent('[data-testid="persona-title"]');
    result.observed.initialsAfter = await page.textContent('[data-testid="persona-initials"]');
    result.observed.accentAfter = await accent();
    await page.waitForTimeout(1500); // let the colour transition settle for the screenshot
    await shot("3-sommelier");
  } else if (scenario === "failing-tool") {
    await type('/call show_recipe {"recipe_id":"does-not-exist"}');
    const failed = '[data-testid="transcript-line"][data-method="show_recipe"][data-ok="false"]';
    await page.waitForSelector(failed);
    result.observed.failure = await page.textContent(failed);
    await shot("2-failed");
    await type("/say Sorry, I could not find that recipe. Shall we try pasta?");
    await waitForAgentText("could not find that recipe");
    await type("pasta");
    await page.waitForSelector('[data-testid="recipe-title"]');
    result.observed.recipeTitle = await page.textContent('[data-testid="recipe-title"]');
    result.observed.connection = await page.textContent('[data-testid="connection"]');
    await shot("3-recovered");
  } else if (scenario === "kitchen-and-return") {
    // The kitchen UI the tools drive, then the agent drops out and the page brings it back.
    await type("pasta");
    await page.waitForSelector('[data-testid="recipe-title"]');
    await type("yes, I have it");
    await page.waitForSelector('[data-testid="ingredient"][data-checked="true"]');
    await page.waitForSelector('[data-testid="step"][data-current="true"]');
    result.observed.checked = await page.$$eval('[data-testid="ingredient"][data-checked="true"]', (els) =>
      els.map((e) => e.querySelector(".ingredient-name")?.textContent ?? ""),
    );
    result.observed.currentStep = await page.$$eval('[data-testid="step"]', (els) =>
      els.findIndex((e) => e.getAttribute("data-current") === "true") + 1,
    );
    await type('/call show_markdown {"title":"Tips","markdown":"**Salt** the water well.\\n\\n- taste it\\n- then add pasta"}');
    await page.waitForSelector('[data-testid="note"] strong');
    result.observed.noteTitle = await page.textContent('[data-testid="note-title"]');
    result.observed.noteBold = await page.textContent('[data-testid="note"] strong');
    result.observed.noteItems = await page.$$eval('[data-testid="note"] li', (els) => els.map((e) => e.textContent));
    await shot("2-kitchen");
    // pytest removes the agent from the room (as a crashed worker would leave it) once this file exists.
    const { writeFileSync } = await import("node:fs");
    writeFileSync(process.env.READY_FILE, "ready");
    await page.waitForSelector('[data-testid="bring-back"]', { timeout: 60_000 });
    result.observed.bannerWhileGone = await page.textContent('[data-testid="banner-message"]');
    await shot("3-agent-left");
    const before = (await agentLines()).length;
    await page.click('[data-testid="bring-back"]');
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid="transcript-line"][data-speaker="agent"]').length > n,
      before,
      { timeout: 60_000 },
    );
    await page.waitForSelector('[data-testid="banner"]', { state: "detached" });
    await type("/say I am back with you.");
    await waitForAgentText("I am back with you");
    result.observed.recipeStillShown = await page.textContent('[data-testid="recipe-title"]');
    result.observed.connection = await page.textContent('[data-testid="connection"]');
    await shot("4-back");
  } else if (scenario === "hand-tick") {
    // What the user does by hand reaches the agent (UI events), which follows along; while the recipe
    // search runs, a card says so. Every tool activity card that ever shows is recorded, however briefly.
    await page.evaluate(() => {
      window.__activity = [];
      const record = () => {
        for (const el of document.querySelectorAll('[data-testid="tool-activity"]')) {
          const seen = `${el.getAttribute("data-tool")}: ${el.textContent}`;
          if (!window.__activity.includes(seen)) window.__activity.push(seen);
        }
      };
      new MutationObserver(record).observe(document.body, { childList: true, subtree: true, characterData: true });
    });
    await type("pasta");
    await page.waitForFunction(() => window.__activity.length > 0);
    await page.waitForSelector('[data-testid="recipe-title"]');
    await page.waitForSelector('[data-testid="tool-activity"]', { state: "detached" });
    result.observed.activityCards = await page.evaluate(() => window.__activity);
    await waitForAgentText("Do you have the spaghetti ready");
    await page.waitForSelector('[data-testid="agent-state"][data-state="listening"]');
    await shot("2-recipe");
    await page.click('[data-testid="ingredient"]:has(.ingredient-name:text-is("spaghetti")) label');
    await waitForAgentText("Got it, the spaghetti is ready");
    await page.waitForSelector('[data-testid="agent-state"][data-state="listening"]');
    await page.click('[data-testid="step"]:nth-child(2) .step-button');
    await waitForAgentText("Okay, step 2");
    result.observed.checked = await page.$$eval('[data-testid="ingredient"][data-checked="true"]', (els) =>
      els.map((e) => e.querySelector(".ingredient-name")?.textContent ?? ""),
    );
    result.observed.currentStep = await page.$$eval('[data-testid="step"]', (els) =>
      els.findIndex((e) => e.getAttribute("data-current") === "true") + 1,
    );
    await shot("3-followed");
  } else if (scenario === "hold") {
    // Stay connected while pytest acts on the room (e.g. an intruder calls the page's methods), until it
    // creates the file HOLD_FILE; then the agent's own tool calls must still work.
    const holdFile = process.env.HOLD_FILE;
    for (let waited = 0; !existsSync(holdFile); waited += 100) {
      if (waited > 90_000) throw new Error(`${holdFile} did not appear`);
      await page.waitForTimeout(100);
    }
    result.observed.toolLinesDuringHold = await page.$$eval('[data-testid="transcript-line"][data-method]', (els) =>
      els.map((e) => `${e.dataset.method} ${e.dataset.ok}`),
    );
    await type('/call start_timer {"label":"after intruder","seconds":30}');
    await page.waitForSelector('[data-testid="timer"][data-label="after intruder"]');
    result.observed.connection = await page.textContent('[data-testid="connection"]');
    await shot("2-after-intruder");
  } else {
    throw new Error(`unknown scenario ${scenario}`);
  }
  result.observed.agentLines = await agentLines();
  result.observed.banner = await page.$('[data-testid="banner"]').then((e) => (e ? e.textContent() : null));
  result.ok = true;
} catch (error) {
  result.error = String(error?.stack ?? error).slice(0, 4000);
  try {
    const page = context?.pages()[0];
    if (page) {
      const path = join(artifacts, `${scenario}-failure.png`);
      await page.screenshot({ path });
      result.screenshots.push(path);
      result.observed.transcript = await page
        .$$eval('[data-testid="transcript-line"]', (els) => els.map((e) => `${e.dataset.speaker}: ${e.textContent}`))
        .catch(() => null);
    }
  } catch {
    // the browser is gone: the error above says why
  }
} finally {
  await context?.close().catch(() => undefined);
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
