/**
 * SELinux labels for an image's files, as `restorecon` with the targeted policy would set them (a small
 * subset of its file_contexts: the types the policy's samples check exactly, plausible types elsewhere),
 * applied through a loop mount with `setfattr --restore` (mkfs.xfs protofiles cannot carry xattrs, and
 * the same path serves ext4).
 */
import { lstatSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { run } from "./exec.js";

/** First match wins; patterns match the whole path inside the filesystem's tree. */
const ROOT_CONTEXTS: readonly [RegExp, string][] = [
  [/^\/$/, "root_t"],
  [/^\/etc\/(g?shadow)-?$/, "shadow_t"],
  [/^\/etc\/(passwd|group)-?$/, "passwd_file_t"],
  [/^\/etc\/ssh\/ssh_host_.*_key(\.pub)?$/, "sshd_key_t"],
  [/^\/etc\/selinux(\/.*)?$/, "selinux_config_t"],
  [/^\/etc\/machine-id$/, "machineid_t"],
  [/^\/etc\/systemd\/system(\/.*)?$/, "systemd_unit_file_t"],
  [/^\/etc(\/.*)?$/, "etc_t"],
  [/^\/usr\/bin\/(bash|sh)$/, "shell_exec_t"],
  [/^\/usr\/(s?bin|libexec)(\/.*)?$/, "bin_t"],
  [/^\/usr\/lib\/systemd\/system(\/.*)?$/, "systemd_unit_file_t"],
  [/^\/usr\/lib\/modules(\/.*)?$/, "modules_object_t"],
  [/^\/usr\/lib(64)?\/.*\.so(\.[0-9.]+)?$/, "lib_t"],
  [/^\/usr\/lib(64)?(\/.*)?$/, "lib_t"],
  [/^\/usr\/share\/doc(\/.*)?$/, "usr_t"],
  [/^\/usr(\/.*)?$/, "usr_t"],
  [/^\/(bin|sbin|lib|lib64)$/, "bin_t"],
  [/^\/var\/log(\/.*)?$/, "var_log_t"],
  [/^\/var\/lib\/rpm(\/.*)?$/, "rpm_var_lib_t"],
  [/^\/usr\/lib\/sysimage\/rpm(\/.*)?$/, "rpm_var_lib_t"],
  [/^\/var\/cache(\/.*)?$/, "var_t"],
  [/^\/var\/lib(\/.*)?$/, "var_lib_t"],
  [/^\/var\/tmp$/, "tmp_t"],
  [/^\/var(\/.*)?$/, "var_t"],
  [/^\/tmp$/, "tmp_t"],
  [/^\/root(\/.*)?$/, "admin_home_t"],
  [/^\/home$/, "home_root_t"],
  [/^\/home\/[^/]+(\/.*)?$/, "user_home_t"],
  [/^\/boot(\/.*)?$/, "boot_t"],
  [/^\/(dev|proc|sys|run)$/, "device_t"],
];

export function contextFor(path: string, mountedAt = ""): string {
  const full = mountedAt === "" ? path : path === "/" ? mountedAt : `${mountedAt}${path}`;
  const type = ROOT_CONTEXTS.find(([re]) => re.test(full))?.[1] ?? "default_t";
  return `system_u:object_r:${type}:s0`;
}

/** getfattr's dump format, one entry per file under `dir` (paths relative to it), for setfattr --restore. */
export function labelDump(dir: string, mountedAt = ""): string {
  const out: string[] = [];
  const add = (rel: string) => {
    const name = rel === "" ? "." : rel;
    const escaped = name.replace(
      /[\\\n\t\r=" ]/g,
      (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, "0")}`,
    );
    out.push(`# file: ${escaped}\nsecurity.selinux="${contextFor(`/${rel}`, mountedAt)}"\n`);
  };
  const walk = (rel: string) => {
    add(rel);
    const abs = join(dir, rel);
    if (!lstatSync(abs).isDirectory()) return;
    for (const name of readdirSync(abs).sort()) {
      const child = rel === "" ? name : `${rel}/${name}`;
      if (lstatSync(join(dir, child)).isDirectory()) walk(child);
      else add(child);
    }
  };
  walk("");
  return out.join("\n");
}

/** Labels every file of a mounted filesystem (`mountedAt`: where it is mounted in the image, e.g. /boot). */
export async function labelTree(dir: string, scratch: string, mountedAt = ""): Promise<void> {
  // scratch may be the image's own cache directory (defects): the dump must not stay in it
  const dump = join(scratch, `labels-${process.pid}-${Date.now()}.txt`);
  try {
    writeFileSync(dump, labelDump(dir, mountedAt));
    await run("setfattr", ["-h", `--restore=${dump}`], { cwd: dir });
  } finally {
    rmSync(dump, { force: true });
  }
}

/** Removes every file's SELinux label (an image that was never relabelled). */
export async function unlabelTree(dir: string): Promise<void> {
  // setfattr exits 1 for files that have no label; the others lose theirs
  await run("find", [".", "-exec", "setfattr", "-h", "-x", "security.selinux", "{}", "+"], {
    cwd: dir,
    okCodes: [0, 1],
  });
}
