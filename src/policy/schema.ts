/**
 * The policy and waiver file formats as zod schemas: what --policy and --waivers files are checked
 * against (and the built-in policies, by the tests). Only the file parser loads this module.
 */
import { z } from "zod";
import { CHECK_NAMES, type CheckName } from "./types.js";

const line = z
  .string()
  .min(1)
  .refine((s) => !s.includes("\n"), "must be one line");
const names = z.array(z.string().min(1));

const when = z.strictObject({
  type: names.optional(),
  version: names.optional(),
  major: names.optional(),
  arch: names.optional(),
  kernel: names.optional(),
});

/** Fields every rule and list item may carry. */
const meta = {
  reason: line.optional(),
  source: line.optional(),
  when: when.optional(),
  remove: z.boolean().optional(),
};
const common = { ...meta, severity: z.enum(["fail", "warn", "off"]).optional() };

const item = <T extends z.ZodRawShape>(shape: T) => z.strictObject({ ...meta, ...shape });

const pathRules = z.strictObject({
  ...common,
  paths: z
    .array(
      item({
        path: z.string().startsWith("/"),
        must: z.enum(["absent", "empty", "not-contain"]).optional(),
        pattern: z
          .string()
          .refine((p) => {
            try {
              new RegExp(p);
              return true;
            } catch {
              return false;
            }
          }, "must be a valid regular expression")
          .optional(),
        except: names.optional(),
      }),
    )
    .optional(),
});

export const CHECK_SCHEMAS: Record<CheckName, z.ZodType> = {
  "root-filesystem": z.strictObject({ ...common, filesystem: z.enum(["xfs", "ext4"]).optional() }),
  "required-packages": z.strictObject({
    ...common,
    packages: z.array(item({ name: z.string().min(1), anyOf: names.optional() })).optional(),
  }),
  kernel: z.strictObject({
    ...common,
    flavours: z
      .array(item({ package: z.string().min(1), kernel: z.enum(["standard", "64k"]).optional() }))
      .optional(),
  }),
  "package-arch": z.strictObject({ ...common, alsoAllowed: names.optional() }),
  services: z.strictObject({
    ...common,
    units: z.array(item({ unit: z.string().min(1), anyOf: names.optional() })).optional(),
  }),
  sshd: z.strictObject({
    ...common,
    settings: z
      .array(
        item({ keyword: z.string().min(1), forbidden: names.optional(), default: z.string().optional() }),
      )
      .optional(),
  }),
  "machine-id": z.strictObject({ ...common, allowed: z.array(z.string()).optional() }),
  "ssh-host-keys": pathRules,
  passwords: z.strictObject({ ...common, exceptUsers: names.optional() }),
  "user-files": pathRules,
  leftovers: pathRules,
  "network-config": pathRules,
  fstab: z.strictObject({ ...common }),
  boot: z.strictObject({
    ...common,
    kernels: z.array(item({ package: z.string().min(1), suffix: z.string().optional() })).optional(),
    grubConfigs: z.array(z.string().startsWith("/")).optional(),
  }),
  "kernel-cmdline": z.strictObject({
    ...common,
    arguments: z.array(item({ arg: z.string().min(1).regex(/^\S+$/, "must be one argument") })).optional(),
  }),
  selinux: z.strictObject({
    ...common,
    mode: z.string().optional(),
    policyType: z.string().optional(),
    samples: z.array(item({ path: z.string().startsWith("/"), type: z.string().optional() })).optional(),
  }),
  repos: z.strictObject({ ...common }),
  "filesystems-clean": z.strictObject({ ...common }),
  "file-integrity": z.strictObject({ ...common, exclude: z.array(z.string().startsWith("/")).optional() }),
};

export const policyFileSchema = z.strictObject({
  policy: z.literal(1),
  extends: z.enum(["common", "azure", "gencloud", "gencloud_ext4", "oci", "opennebula"]).optional(),
  description: z.string().optional(),
  checks: z.record(z.string(), z.unknown()),
});

const date = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date YYYY-MM-DD")
  .refine((d) => {
    const t = new Date(`${d}T00:00:00Z`);
    return !Number.isNaN(t.getTime()) && t.toISOString().startsWith(d);
  }, "must be a real date (YYYY-MM-DD)");

export const waiverSchema = z.strictObject({
  check: z.enum(CHECK_NAMES),
  path: z.string().startsWith("/").optional(),
  package: z.string().min(1).optional(),
  reason: line,
  expires: date,
});

export const waiversFileSchema = z.strictObject({ waivers: z.array(z.unknown()) });
