// A minimal Chrome DevTools Protocol client over Deno's WebSocket: enough to
// open a page in a headless Chromium, size its window, read its DOM, collect
// its console errors and network requests, and take a screenshot. Used by the
// report's browser test and by `deno task docs:screenshot`. Needs no download:
// it drives the system's `chromium` (Debian package `chromium`).

/** Flags that keep the browser off the network and out of the user's profile. */
export const CHROMIUM_FLAGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
  "--hide-scrollbars",
];

/** How long to wait for the browser to answer before giving up: a guard, not a timing. */
const GUARD_MS = 60_000;

type Json = Record<string, unknown>;

interface Pending {
  resolve: (value: Json) => void;
  reject: (error: Error) => void;
}

/** What a page did that a test checks: console errors, exceptions, requests. */
export interface PageLog {
  /** Console errors, uncaught exceptions and browser log errors, as text. */
  errors: string[];
  /** Every URL the page requested. */
  requests: string[];
}

/** A headless Chromium driven over the DevTools protocol. */
export class Chromium {
  #child: Deno.ChildProcess;
  #socket: WebSocket;
  #profile: string;
  #nextId = 1;
  #pending = new Map<number, Pending>();
  #listeners = new Set<(method: string, params: Json, sessionId?: string) => void>();

  private constructor(child: Deno.ChildProcess, socket: WebSocket, profile: string) {
    this.#child = child;
    this.#socket = socket;
    this.#profile = profile;
    socket.onmessage = (event) => this.#receive(JSON.parse(String(event.data)));
    socket.onclose = () => {
      for (const p of this.#pending.values()) p.reject(new Error("chromium closed the connection"));
      this.#pending.clear();
    };
  }

  /** Starts `binary` with a fresh profile and connects to it. */
  static async launch(binary = "chromium"): Promise<Chromium> {
    const profile = await Deno.makeTempDir({ prefix: "ers_chromium_" });
    const child = new Deno.Command(binary, {
      args: [
        ...CHROMIUM_FLAGS,
        `--user-data-dir=${profile}`,
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0",
        "about:blank",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    try {
      const url = await withGuard(devToolsUrl(child.stderr), "chromium did not start");
      const socket = new WebSocket(url);
      await withGuard(
        new Promise<void>((resolve, reject) => {
          socket.onopen = () => resolve();
          socket.onerror = () => reject(new Error(`cannot connect to ${url}`));
        }),
        "chromium did not accept the connection",
      );
      return new Chromium(child, socket, profile);
    } catch (error) {
      child.kill("SIGKILL");
      await child.status;
      await Deno.remove(profile, { recursive: true }).catch(() => {});
      throw error;
    }
  }

  /** Sends one command; resolves with its result. */
  send(method: string, params: Json = {}, sessionId?: string): Promise<Json> {
    const id = this.#nextId++;
    const done = new Promise<Json>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    this.#socket.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    return withGuard(done, `chromium did not answer ${method}`);
  }

  /** Opens a page of the given CSS size; returns it with its log. */
  async newPage(width: number, height: number): Promise<Page> {
    const { targetId } = await this.send("Target.createTarget", { url: "about:blank" });
    const { sessionId } = await this.send("Target.attachToTarget", { targetId, flatten: true });
    return await Page.open(this, sessionId as string, width, height);
  }

  /** Calls `listener` for every event until the returned function is called. */
  listen(listener: (method: string, params: Json, sessionId?: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Closes the browser and removes its profile. */
  async close(): Promise<void> {
    try {
      await this.send("Browser.close");
    } catch {
      // The browser may close the connection before answering.
    }
    this.#socket.close();
    const exited = await Promise.race([
      this.#child.status.then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 5000)),
    ]);
    if (!exited) {
      this.#child.kill("SIGKILL");
      await this.#child.status;
    }
    await Deno.remove(this.#profile, { recursive: true }).catch(() => {});
  }

  #receive(message: Json): void {
    if (typeof message.id === "number") {
      const pending = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (pending === undefined) return;
      const error = message.error as { message?: string } | undefined;
      if (error) pending.reject(new Error(`DevTools: ${error.message}`));
      else pending.resolve((message.result ?? {}) as Json);
      return;
    }
    for (const listener of this.#listeners) {
      listener(
        message.method as string,
        (message.params ?? {}) as Json,
        message.sessionId as string,
      );
    }
  }
}

/** One page (tab) of a {@linkcode Chromium}. */
export class Page {
  readonly log: PageLog = { errors: [], requests: [] };
  #browser: Chromium;
  #sessionId: string;
  #loaded: (() => void) | undefined;

  private constructor(browser: Chromium, sessionId: string) {
    this.#browser = browser;
    this.#sessionId = sessionId;
    browser.listen((method, params, sessionId) => {
      if (sessionId === this.#sessionId) this.#event(method, params);
    });
  }

  static async open(browser: Chromium, sessionId: string, width: number, height: number) {
    const page = new Page(browser, sessionId);
    for (const domain of ["Page", "Runtime", "Log", "Network"]) await page.send(`${domain}.enable`);
    await page.send("Emulation.setDeviceMetricsOverride", {
      width,
      height,
      deviceScaleFactor: 1,
      mobile: false,
    });
    return page;
  }

  send(method: string, params: Json = {}): Promise<Json> {
    return this.#browser.send(method, params, this.#sessionId);
  }

  /** Navigates to `url` and waits for its load event. */
  async goto(url: string): Promise<void> {
    const loaded = new Promise<void>((resolve) => this.#loaded = resolve);
    const result = await this.send("Page.navigate", { url });
    if (typeof result.errorText === "string") {
      throw new Error(`cannot open ${url}: ${result.errorText}`);
    }
    await withGuard(loaded, `${url} did not load`);
  }

  /** Evaluates `expression` in the page (awaiting a promise); returns its JSON value. */
  async evaluate<T>(expression: string): Promise<T> {
    const result = await this.send("Runtime.evaluate", {
      expression,
      returnByValue: true,
      awaitPromise: true,
    });
    if (result.exceptionDetails) {
      throw new Error(`evaluate failed: ${JSON.stringify(result.exceptionDetails)}`);
    }
    return (result.result as { value: T }).value;
  }

  /** A PNG of the whole page (not just the window), as bytes. */
  async screenshot(): Promise<Uint8Array> {
    const metrics = await this.send("Page.getLayoutMetrics");
    const size = metrics.cssContentSize as { width: number; height: number };
    const result = await this.send("Page.captureScreenshot", {
      format: "png",
      captureBeyondViewport: true,
      clip: { x: 0, y: 0, width: size.width, height: size.height, scale: 1 },
    });
    return Uint8Array.from(atob(result.data as string), (c) => c.charCodeAt(0));
  }

  #event(method: string, params: Json): void {
    if (method === "Page.loadEventFired") this.#loaded?.();
    if (method === "Network.requestWillBeSent") {
      this.log.requests.push((params.request as { url: string }).url);
    }
    if (
      method === "Runtime.consoleAPICalled" && ["error", "assert"].includes(params.type as string)
    ) {
      const args = params.args as { value?: unknown; description?: string }[];
      this.log.errors.push(
        `console.${params.type}: ${args.map((a) => a.value ?? a.description).join(" ")}`,
      );
    }
    if (method === "Runtime.exceptionThrown") {
      this.log.errors.push(`exception: ${JSON.stringify(params.exceptionDetails)}`);
    }
    if (method === "Log.entryAdded") {
      const entry = params.entry as { level: string; text: string; url?: string };
      if (entry.level === "error") this.log.errors.push(`log: ${entry.text} ${entry.url ?? ""}`);
    }
  }
}

// Reads chromium's stderr until it prints its DevTools WebSocket address.
async function devToolsUrl(stderr: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (true) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`chromium exited before listening:\n${seen}`);
    seen += value;
    const match = /DevTools listening on (ws:\/\/\S+)/.exec(seen);
    if (match) {
      // Keep draining stderr so that chromium never blocks on a full pipe.
      (async () => {
        while (!(await reader.read()).done) { /* discard */ }
      })().catch(() => {});
      return match[1] as string;
    }
  }
}

function withGuard<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${GUARD_MS} ms`)), GUARD_MS);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

/**
 * The first of `ERS_CHROMIUM`, `chromium`, `chromium-browser` that runs, or
 * `undefined` when none does.
 */
export async function findChromium(): Promise<string | undefined> {
  for (const candidate of [Deno.env.get("ERS_CHROMIUM"), "chromium", "chromium-browser"]) {
    if (!candidate) continue;
    try {
      const { success } = await new Deno.Command(candidate, {
        args: ["--version"],
        stdout: "null",
        stderr: "null",
      }).output();
      if (success) return candidate;
    } catch {
      // Not installed.
    }
  }
  return undefined;
}
