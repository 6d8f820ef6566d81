// A stand-in for the tool in the process tests: it starts children or takes locks through the library
// (the bundled dist/, as the CLI runs it), reports on stdout, and is then signalled or killed by the test.
import { existsSync } from "node:fs";
import { acquireLock, handleInterrupts, startChild } from "../../dist/index.js";

const [mode, ...args] = process.argv.slice(2);
const say = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);

if (mode === "children") {
  // args: one shell script per child; each child is reported with its pid, then the holder waits.
  const interrupts = args[0] === "--interrupts" ? handleInterrupts() : undefined;
  const scripts = interrupts ? args.slice(1) : args;
  const children = [];
  for (const script of scripts) children.push(await startChild("sh", ["-c", script], { killGraceMs: 1000 }));
  say({ pids: children.map((c) => c.pid) });
  const results = await Promise.all(children.map((c) => c.result));
  say({ results: results.map((r) => ({ exitCode: r.exitCode, signal: r.signal, stopped: r.stopped })) });
  if (interrupts?.received) {
    process.stderr.write(`holder: ${interrupts.received.message}\n`);
    process.exitCode = interrupts.received.exitCode;
  }
} else if (mode === "lock") {
  // args: dir resource holdMs [goFile: wait for it to exist, so racers start together]
  const [dir, resource, holdMs, goFile] = args;
  if (goFile) {
    say({ waiting: true });
    while (!existsSync(goFile)) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  try {
    const lock = await acquireLock(resource, { dir, purpose: "holder test" });
    say({ ok: true, pid: process.pid });
    await new Promise((resolve) => setTimeout(resolve, Number(holdMs)));
    await lock.release();
  } catch (e) {
    say({ ok: false, message: e.message, exitCode: e.exitCode });
  }
} else {
  throw new Error(`unknown mode ${mode}`);
}
