// The boot test's parts against real tools: QEMU accepts the command lines (x86_64 and aarch64), the KVM
// probe guest runs (under TCG here), the CONTEXT volume reads back with blkid and isoinfo, the seed parses
// as YAML and context.sh as bash, the mirror comes from apt's configuration, the guest's answers parse.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { guestMirrorLines, parseDeb822Sources, parseOneLineSources } from "../../guestgen/mirror.js";
import { chooseAccelerator, probeAccelerator } from "../../src/boot/accel.js";
import { parseSections, stageOneScript } from "../../src/boot/guest-script.js";
import { writeIso9660 } from "../../src/boot/iso9660.js";
import { type MachineSpec, qemuArgs } from "../../src/boot/machine.js";
import { noCloudSeed, noCloudSmbiosSerial, openNebulaContext } from "../../src/boot/seed.js";
import { missingTools } from "../demo/helpers.js";

const tmp = mkdtempSync(join(tmpdir(), "boot-parts-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function spec(overrides: Partial<MachineSpec> = {}): MachineSpec {
  return {
    arch: "x86_64",
    accelerator: "tcg",
    firmware: { kind: "uefi", code: "/usr/share/OVMF/OVMF_CODE_4M.fd", vars: join(tmp, "vars.fd") },
    cpus: 2,
    memoryMiB: 2048,
    disk: join(tmp, "disk.qcow2"),
    consoleLog: join(tmp, "console,log"),
    sshPort: 40022,
    smbiosSerial: noCloudSmbiosSerial("http://10.0.2.2:38000/"),
    ...overrides,
  };
}

/** Starts QEMU paused (-S) with `args`: true when it is still running after 3 s (it accepted them). */
function qemuAccepts(binary: string, args: string[]): Promise<{ ok: boolean; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(binary, [...args, "-S"], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve({ ok: true, stderr });
    }, 3000);
    child.on("exit", () => {
      clearTimeout(timer);
      resolve({ ok: false, stderr });
    });
  });
}

describe("QEMU command line", () => {
  it("x86_64: q35, OVMF from pflash, the overlay on virtio, only a loopback SSH forward, no display", () => {
    const args = qemuArgs(spec()).join(" ");
    expect(args).toContain("-machine q35 -accel tcg -cpu max");
    expect(args).toContain("if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd");
    expect(args).toContain("hostfwd=tcp:127.0.0.1:40022-:22");
    expect(args).toContain("-display none");
    expect(args).not.toMatch(/-vnc|-spice/);
    // commas in values are doubled for QEMU's option parser
    expect(args).toContain(`path=${join(tmp, "console,,log")}`);
    expect(qemuArgs(spec({ accelerator: "kvm" })).join(" ")).toContain("-accel kvm -cpu host");
    expect(qemuArgs(spec({ firmware: { kind: "bios" } })).join(" ")).not.toContain("pflash");
    expect(() => qemuArgs(spec({ arch: "aarch64", firmware: { kind: "bios" } }))).toThrow(/UEFI only/);
  });

  const x86Skip = missingTools(["qemu-system-x86_64", "qemu-img"]);
  it.skipIf(x86Skip)("qemu-system-x86_64 accepts it", async () => {
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", join(tmp, "disk.qcow2"), "1G"]);
    execFileSync("cp", ["/usr/share/OVMF/OVMF_VARS_4M.fd", join(tmp, "vars.fd")]);
    writeFileSync(
      join(tmp, "ctx.iso"),
      writeIso9660("CONTEXT", [{ name: "context.sh", data: Buffer.from("X=1\n") }]),
    );
    const r = await qemuAccepts("qemu-system-x86_64", qemuArgs(spec({ volumes: [join(tmp, "ctx.iso")] })));
    expect(r.ok, r.stderr).toBe(true);
  });

  const armSkip =
    missingTools(["qemu-system-aarch64", "qemu-img"]) ??
    (existsSync("/usr/share/AAVMF/AAVMF_CODE.fd") ? null : "no AAVMF (qemu-efi-aarch64)");
  it.skipIf(armSkip)("aarch64: virt with AAVMF, and qemu-system-aarch64 accepts it", async () => {
    execFileSync("qemu-img", ["create", "-q", "-f", "qcow2", join(tmp, "arm.qcow2"), "1G"]);
    execFileSync("cp", ["/usr/share/AAVMF/AAVMF_VARS.fd", join(tmp, "arm-vars.fd")]);
    const arm = spec({
      arch: "aarch64",
      firmware: { kind: "uefi", code: "/usr/share/AAVMF/AAVMF_CODE.fd", vars: join(tmp, "arm-vars.fd") },
      disk: join(tmp, "arm.qcow2"),
    });
    const args = qemuArgs(arm);
    expect(args.join(" ")).toContain("-machine virt,gic-version=max -accel tcg -cpu max");
    const r = await qemuAccepts("qemu-system-aarch64", args);
    expect(r.ok, r.stderr).toBe(true);
  });
});

describe("accelerator", () => {
  const skip = missingTools(["qemu-system-x86_64", "qemu-system-aarch64"]);
  it.skipIf(skip)(
    "the probe guests print their marker under TCG (x86_64 boot sector, aarch64 program)",
    async () => {
      expect(await probeAccelerator("qemu-system-x86_64", "x86_64", "tcg")).toMatchObject({ ok: true });
      expect(await probeAccelerator("qemu-system-aarch64", "aarch64", "tcg")).toMatchObject({ ok: true });
      expect((await probeAccelerator("/nonexistent/qemu", "x86_64", "tcg")).reason).toMatch(/cannot run/);
    },
  );

  it("the probe runs the guest's CPU model: a KVM that aborts QEMU on -cpu host is not chosen", async () => {
    // Stands in for a nested KVM met on a build machine, which no CI machine can be made to have: QEMU's
    // default CPU model ran there, and `-cpu host` (the real guest's) aborted QEMU setting its MSRs.
    const qemu = join(tmp, "qemu-kvm-msr-abort");
    writeFileSync(
      qemu,
      [
        "#!/bin/sh",
        'case " $* " in',
        '*" -cpu host "*) echo "qemu: kvm_buf_set_msrs: Assertion failed." >&2; kill -ABRT $$ ;;',
        "*) printf 'CLOUD-IMAGES-KVM-PROBE-OK\\r\\n'; exit 1 ;;",
        "esac",
        "",
      ].join("\n"),
      { mode: 0o755 },
    );
    const device = join(tmp, "kvm-device");
    writeFileSync(device, "");
    const probe = await probeAccelerator(qemu, "x86_64", "kvm");
    expect(probe).toMatchObject({ ok: false });
    expect(probe.reason).toMatch(/SIGABRT.*kvm_buf_set_msrs/);
    const choice = await chooseAccelerator("auto", qemu, "x86_64", device);
    expect(choice.accelerator).toBe("tcg");
    expect(choice.warning).toMatch(/probe guest did not run under KVM.*kvm_buf_set_msrs.*TCG/);
    // Under TCG the model is `max`, which the stand-in runs.
    expect(await probeAccelerator(qemu, "x86_64", "tcg")).toMatchObject({ ok: true });
  });

  it("auto without a usable /dev/kvm is TCG with the reason", async () => {
    const choice = await chooseAccelerator("auto", "qemu-system-x86_64", "x86_64", join(tmp, "no-kvm"));
    expect(choice.accelerator).toBe("tcg");
    expect(choice.warning).toMatch(/does not exist.*TCG/);
    expect(await chooseAccelerator("tcg", "qemu-system-x86_64", "x86_64")).toEqual({ accelerator: "tcg" });
  });
});

describe("credentials", () => {
  it("the NoCloud seed is cloud-config YAML with the key and the phone-home URL", () => {
    const seed = noCloudSeed({
      instanceId: "i-1",
      publicKey: "ssh-ed25519 AAAA test\n",
      phoneHomeUrl: "http://10.0.2.2:1/phone-home",
    });
    const user = parseYaml(seed["user-data"]) as Record<string, unknown>;
    expect(seed["user-data"].startsWith("#cloud-config\n")).toBe(true);
    expect(user.ssh_authorized_keys).toEqual(["ssh-ed25519 AAAA test"]);
    expect(user.phone_home).toMatchObject({ url: "http://10.0.2.2:1/phone-home" });
    expect(parseYaml(seed["meta-data"])).toMatchObject({
      "instance-id": "i-1",
      "local-hostname": "cloud-images-boot-test",
    });
    expect(noCloudSmbiosSerial("http://10.0.2.2:1/")).toBe("ds=nocloud-net;s=http://10.0.2.2:1/");
  });

  it("context.sh reads back in bash, quotes included", () => {
    const key = "ssh-ed25519 AAAA it's-a-comment";
    writeFileSync(
      join(tmp, "context.sh"),
      openNebulaContext({ user: "almalinux", publicKey: key, mac: "52:54:00:12:34:56" }),
    );
    const out = execFileSync(
      "bash",
      [
        "-c",
        `set -a; . "${join(tmp, "context.sh")}"; printf '%s|%s|%s' "$SSH_PUBLIC_KEY" "$USERNAME" "$ETH0_MAC"`,
      ],
      {
        encoding: "utf8",
      },
    );
    expect(out).toBe(`${key}|almalinux|52:54:00:12:34:56`);
  });

  const isoSkip = missingTools(["blkid", "isoinfo"]);
  it.skipIf(isoSkip)(
    "the CONTEXT volume is ISO 9660 labelled CONTEXT holding context.sh (blkid, isoinfo)",
    () => {
      const data = Buffer.from(
        openNebulaContext({ user: "almalinux", publicKey: "ssh-ed25519 AAAA k", mac: "52:54:00:12:34:56" }),
      );
      const iso = join(tmp, "context.iso");
      writeFileSync(iso, writeIso9660("CONTEXT", [{ name: "context.sh", data }]));
      expect(execFileSync("blkid", ["-o", "export", iso], { encoding: "utf8" })).toMatch(
        /LABEL=CONTEXT\nTYPE=iso9660/,
      );
      expect(execFileSync("isoinfo", ["-l", "-i", iso], { encoding: "utf8" })).toMatch(/CONTEXT\.SH;1/);
      expect(execFileSync("isoinfo", ["-i", iso, "-x", "/CONTEXT.SH;1"])).toEqual(data);
    },
  );
});

describe("apt sources → the guest's mirror", () => {
  it("reads deb822 and one-line sources and keeps bookworm's main", () => {
    const deb822 = [
      "Types: deb",
      "URIs: http://mirror.example/debian",
      "Suites: bookworm bookworm-updates",
      "Components: main contrib",
      "",
      "Types: deb deb-src",
      "URIs: http://mirror.example/debian-security",
      "Suites: bookworm-security",
      "Components: main",
      "",
      "Types: deb",
      "Enabled: no",
      "URIs: http://disabled.example/debian",
      "Suites: bookworm",
      "Components: main",
    ].join("\n");
    const lines =
      "deb [arch=amd64] https://packages.example/apt cloud-sdk-bookworm main\n# deb http://x/ bookworm main\n";
    const sources = [...parseDeb822Sources(deb822), ...parseOneLineSources(lines)];
    expect(guestMirrorLines(sources)).toEqual([
      "deb http://mirror.example/debian bookworm main",
      "deb http://mirror.example/debian bookworm-updates main",
      "deb http://mirror.example/debian-security bookworm-security main",
    ]);
    expect(() => guestMirrorLines(parseOneLineSources(lines))).toThrow(/no Debian 12 \(bookworm\) source/);
  });
});

describe("the guest's answers", () => {
  it("keeps each section's output, errors and status apart, and drops a cut-off section", () => {
    const out = [
      "@@cloud-images-begin units",
      "running",
      "",
      "@@cloud-images-stderr",
      "sudo: unable to resolve host x",
      "",
      "@@cloud-images-end units 0",
      "@@cloud-images-begin release",
      "AlmaLinux release 9.6",
      "",
      "@@cloud-images-end release 0",
      "@@cloud-images-begin growpart",
      "source /dev/vda4",
    ].join("\n");
    expect(parseSections(out)).toEqual({
      units: { output: "running", stderr: "sudo: unable to resolve host x", status: 0 },
      release: { output: "AlmaLinux release 9.6", stderr: "", status: 0 },
    });
  });

  it("refuses package names a shell would interpret", () => {
    expect(() =>
      stageOneScript({ releasePackage: "almalinux-release", requiredPackages: ["a;rm -rf /"] }),
    ).toThrow(/unsafe/);
  });

  it("runs under a POSIX shell: section statuses and outputs as the commands gave them", () => {
    const script = stageOneScript({ releasePackage: "almalinux-release", requiredPackages: ["bash"] });
    const sections = parseSections(execFileSync("sh", ["-s"], { input: script, encoding: "utf8" }));
    expect(sections.identity!.output).toMatch(/^machine-id \S*\nboot-time \d+/);
    expect(sections.release!.status).not.toBe(0);
    expect(sections.release!.stderr).toMatch(/almalinux-release/);
  });
});
