import { type Command, Option } from "commander";
import { bootTest, parseDiskSize } from "../../boot/boot-test.js";
import type { BootTestResult } from "../../boot/result.js";
import { parseDuration } from "../../durations.js";
import { checkOutputLocation, readInputFile } from "../../files.js";
import type { CheckResult } from "../../inspect/verdict.js";
import { interruptSignal } from "../interrupts.js";
import { action, printJson, printLines, table, wholeNumber } from "../util.js";

interface BootTestCliOptions {
  type: string;
  variant: string;
  arch: string;
  release?: string;
  diskSize: string;
  timeout?: string;
  accel: "auto" | "kvm" | "tcg";
  firmware: "uefi" | "bios";
  firmwareCode?: string;
  firmwareVars?: string;
  cpus: string;
  memory: string;
  boots: string;
  user: string;
  qemu?: string;
  keepGoing?: boolean;
  packages?: string;
  require?: string[];
  consoleLog?: string;
  junit?: string;
  json?: boolean;
}

const MARK: Record<CheckResult["status"], string> = {
  pass: "PASS",
  fail: "FAIL",
  warn: "WARN",
  skip: "SKIP",
};

const collect = (value: string, previous: string[] | undefined) => [
  ...(previous ?? []),
  ...value.split(/[\s,]+/).filter(Boolean),
];

function humanReport(r: BootTestResult): string[] {
  const rows = r.checks.map((c) => {
    const detail =
      c.status === "fail" || c.status === "warn"
        ? ` (expected: ${c.expected ?? "-"}, found: ${c.found ?? "-"})`
        : "";
    return [MARK[c.status], c.name, `${c.message}${detail}`];
  });
  const phases = r.boots.map((b) => {
    const p = Object.entries(b.phases).map(([k, v]) => `${k} ${v} s`);
    return `boot ${b.index}: ${p.length ? p.join(", ") : "no phase reached"}; ended after ${b.ended.seconds.toFixed(0)} s (${b.ended.reason})`;
  });
  const failed = r.checks.filter((c) => c.status === "fail").map((c) => c.name);
  const lines = [`image: ${r.image}`, ...table(rows), ...phases];
  if (r.stoppedEarly) lines.push(`stopped early: ${r.stoppedEarly}`);
  if (!r.passed && r.consoleTail?.length) {
    lines.push(`last ${r.consoleTail.length} console lines:`, ...r.consoleTail.map((l) => `  | ${l}`));
  }
  lines.push(
    r.passed
      ? `boot test: PASSED in ${r.seconds.toFixed(0)} s (${r.accelerator.toUpperCase()})`
      : `boot test: FAILED (${failed.join(", ")}) in ${r.seconds.toFixed(0)} s (${r.accelerator.toUpperCase()})`,
  );
  return lines;
}

export function register(program: Command): void {
  program
    .command("boot-test")
    .description(
      "boot an image in QEMU (KVM when it works, else TCG) on a throwaway overlay, give it credentials as its\n" +
        "cloud would, and check it live: SSH, console, cloud-init, units, release, packages, growpart, SELinux, identity",
    )
    .argument("<image>", "raw or qcow2 disk image (never written: the guest runs on a qcow2 overlay)")
    .requiredOption("--type <T>", "azure, gencloud, gencloud_ext4, oci or opennebula")
    .requiredOption("--variant <V>", "9, 10-v2, 9-64k, 10-kitten…")
    .requiredOption("--arch <A>", "x86_64 or aarch64")
    .option("--release <R>", "point release such as 9.6 (Kitten: 10)")
    .option(
      "--disk-size <SIZE>",
      "the overlay's size, so growpart has work to do (at least the image's)",
      "20G",
    )
    .option("--timeout <SECONDS>", "budget for the whole test (default 600 with KVM, 1500 with TCG)")
    .addOption(
      new Option("--accel <A>", "accelerator; auto uses KVM when a probe guest runs under it")
        .choices(["auto", "kvm", "tcg"])
        .default("auto"),
    )
    .addOption(
      new Option("--firmware <F>", "x86_64 firmware: uefi (OVMF) or bios (SeaBIOS)")
        .choices(["uefi", "bios"])
        .default("uefi"),
    )
    .option("--firmware-code <FILE>", "UEFI code (default: OVMF/AAVMF from the distribution)")
    .option("--firmware-vars <FILE>", "UEFI variable store template (copied for each boot)")
    .option("--cpus <N>", "virtual CPUs", "2")
    .option("--memory <MiB>", "guest memory", "2048")
    .option("--boots <N>", "boot N fresh overlays; identity must differ between them", "1")
    .option("--user <NAME>", "the cloud user to log in as", "almalinux")
    .option("--qemu <PATH>", "QEMU binary (default qemu-system-ARCH)")
    .option("--keep-going", "run every check even once the outcome is certain")
    .option("--packages <FILE>", "offline package names (verify's IMAGE.txt; default: read from the image)")
    .option(
      "--require <PKGS>",
      "packages rpm -q must find (repeatable, comma or space separated; default: the leg's offline policy's required-packages)",
      collect,
    )
    .option("--console-log <FILE>", "where the serial console goes (default IMAGE.console.log)")
    .option("--junit <FILE>", "write a JUnit XML report, one testcase per check")
    .option("--json", "print the result as JSON (progress stays on stderr)")
    .addHelpText(
      "after",
      "\nWrites IMAGE.boot.json and IMAGE.console.log beside the image. gencloud and gencloud_ext4 get a NoCloud\n" +
        "seed over HTTP (SMBIOS ds=nocloud-net;s=http://10.0.2.2:PORT/), opennebula a CONTEXT volume; Azure and OCI\n" +
        "images wait for their clouds' metadata services, so only their console is checked (login prompt, no\n" +
        "failure pattern). Under TCG expect 3-5 minutes per boot; with KVM well under one.\n" +
        "\nExamples:\n" +
        "  cloud-images boot-test AlmaLinux-9-GenericCloud-9.6-20260220.x86_64.qcow2 --type gencloud --variant 9 --arch x86_64 --release 9.6\n" +
        "  cloud-images boot-test IMAGE.qcow2 --type gencloud --variant 9 --arch x86_64 --release 9.6 --boots 2 --junit boot.xml\n" +
        "\nExit codes: 0 every check passed (warnings allowed), 1 a check failed, 2 bad input or a missing\n" +
        "program (the message names the package), 130/143 interrupted (QEMU stopped, temporary files removed).",
    )
    .action(
      action(
        async (image: string, opts: BootTestCliOptions) => {
          // Found now, not after the boots.
          if (opts.junit) await checkOutputLocation(opts.junit);
          if (opts.consoleLog) await checkOutputLocation(opts.consoleLog);
          const offlinePackages = opts.packages
            ? (await readInputFile(opts.packages, { what: "--packages" }))
                .toString("utf8")
                .split("\n")
                .map((l) => l.trim())
                .filter(Boolean)
            : undefined;
          const result = await bootTest(image, {
            type: opts.type,
            variant: opts.variant,
            arch: opts.arch,
            release: opts.release,
            diskSizeBytes: parseDiskSize(opts.diskSize),
            timeoutSeconds:
              opts.timeout !== undefined
                ? parseDuration(opts.timeout, { flag: "--timeout", unit: "seconds" }) / 1000
                : undefined,
            accelerator: opts.accel,
            firmware: opts.firmware,
            firmwareCode: opts.firmwareCode,
            firmwareVars: opts.firmwareVars,
            cpus: wholeNumber("--cpus", opts.cpus),
            memoryMiB: wholeNumber("--memory", opts.memory),
            boots: wholeNumber("--boots", opts.boots),
            user: opts.user,
            qemu: opts.qemu,
            keepGoing: opts.keepGoing,
            offlinePackages,
            requiredPackages: opts.require,
            consoleLog: opts.consoleLog,
            junitFile: opts.junit,
            signal: interruptSignal(),
            log: (line) => process.stderr.write(`${line}\n`),
          });
          if (opts.json) printJson(result);
          else printLines(humanReport(result));
          return result.passed ? 0 : 1;
        },
        { unwinds: true },
      ),
    );
}
