#!/usr/bin/env node
// A stand-in for qemu-system-*: takes QEMU's command line, and instead of a guest plays a scenario
// (STANDIN_SCENARIO, a JSON file): console text written to the -chardev file over time, the NoCloud seed
// fetched and phone-home posted to the -smbios URL, a real sshd (started on the hostfwd port, running the
// boot test's commands in a fake guest root), a silent one or none, an early exit. SIGTERM ends it and its sshd.
import { spawn } from "node:child_process";
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";

const args = process.argv.slice(2);
if (args.includes("--version")) {
  console.log("QEMU emulator version 7.2.99 (cloud-images stand-in)");
  process.exit(0);
}
const scenario = JSON.parse(readFileSync(process.env.STANDIN_SCENARIO, "utf8"));
const value = (flag, re) => {
  for (let i = 0; i < args.length - 1; i++) if (args[i] === flag && re.test(args[i + 1])) return args[i + 1];
  return undefined;
};
const consolePath = /path=([^,]+)/.exec(value("-chardev", /^file,/) ?? "")?.[1];
const port = Number(/hostfwd=tcp:127\.0\.0\.1:(\d+)-:22/.exec(value("-netdev", /^user,/) ?? "")?.[1]);
const seedUrl = /s=(http:\/\/[^,;]+)/
  .exec(value("-smbios", /^type=1/) ?? "")?.[1]
  ?.replace("10.0.2.2", "127.0.0.1");
if (scenario.record)
  writeFileSync(scenario.record, JSON.stringify({ args, pid: process.pid, pgid: process.pid }));

const sleep = (s) => new Promise((r) => setTimeout(r, s * 1000));
const children = [];
const stop = () => {
  for (const c of children) c.kill("SIGKILL");
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

function http(method, url, body) {
  return new Promise((resolve) => {
    const req = request(url, { method }, (res) => {
      let data = "";
      res.on("data", (c) => (data += c));
      res.on("end", () => resolve(data));
    });
    req.on("error", () => resolve(""));
    req.end(body);
  });
}

/** sshd on the forwarded port; the user's key comes from the seed's user-data, as cloud-init does it. */
async function startSshd() {
  const dir = scenario.sshd.dir;
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const userData = seedUrl ? await http("GET", `${seedUrl}user-data`) : "";
  const key = /ssh-ed25519 [A-Za-z0-9+/=]+/.exec(userData)?.[0] ?? "";
  writeFileSync(join(dir, "authorized_keys"), `${key}\n`, { mode: 0o600 });
  const config = [
    `Port ${port}`,
    "ListenAddress 127.0.0.1",
    `HostKey ${join(dir, "host_key")}`,
    `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
    `PidFile ${join(dir, "sshd.pid")}`,
    "StrictModes no",
    "PermitRootLogin prohibit-password",
    "PasswordAuthentication no",
    "KbdInteractiveAuthentication no",
    "UsePAM no",
    `ForceCommand /usr/sbin/chroot ${scenario.sshd.root} /bin/sh -c "$SSH_ORIGINAL_COMMAND"`,
    "",
  ].join("\n");
  writeFileSync(join(dir, "sshd_config"), config);
  children.push(spawn("/usr/sbin/sshd", ["-D", "-e", "-f", join(dir, "sshd_config")], { stdio: "ignore" }));
}

const events = [];
for (const line of scenario.console ?? [])
  events.push({ at: line.at, run: () => appendFileSync(consolePath, line.text) });
if (scenario.fetchSeedAt !== undefined && seedUrl)
  events.push({ at: scenario.fetchSeedAt, run: () => http("GET", `${seedUrl}meta-data`) });
if (scenario.phoneHomeAt !== undefined && seedUrl)
  events.push({ at: scenario.phoneHomeAt, run: () => http("POST", `${seedUrl}phone-home`, "instance_id=x") });
if (scenario.sshd) events.push({ at: scenario.sshd.at, run: startSshd });
// a guest whose sshd accepts connections and never answers (as a very slow one does)
if (scenario.silentSshdAt !== undefined)
  events.push({
    at: scenario.silentSshdAt,
    run: () => {
      const held = [];
      createServer((socket) => held.push(socket)).listen(port, "127.0.0.1");
    },
  });
if (scenario.exitAt !== undefined)
  events.push({
    at: scenario.exitAt,
    run: () => {
      process.stderr.write(`${scenario.exitMessage ?? "qemu-system-x86_64: guest gone"}\n`);
      for (const c of children) c.kill("SIGKILL");
      process.exit(scenario.exitCode ?? 1);
    },
  });
events.sort((a, b) => a.at - b.at);
const started = Date.now();
for (const e of events) {
  await sleep(Math.max(0, e.at - (Date.now() - started) / 1000));
  await e.run();
}
// a guest runs until it is stopped
setInterval(() => {}, 1 << 30);
