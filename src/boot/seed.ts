/**
 * What the guest is told: a NoCloud seed (meta-data, user-data) served over HTTP to gencloud images, or an
 * OpenNebula context (context.sh) for opennebula images. Pure text; the credentials are a throwaway key.
 */

/** The address of the host as a QEMU user-mode (slirp) guest sees it; it reaches the host's loopback. */
export const SLIRP_HOST = "10.0.2.2";
export const GUEST_HOSTNAME = "cloud-images-boot-test";

export interface NoCloudSeed {
  readonly "meta-data": string;
  readonly "user-data": string;
  readonly "vendor-data": string;
}

/** The SMBIOS serial that points cloud-init's NoCloud datasource at `seedUrl` (ends with /). */
export function noCloudSmbiosSerial(seedUrl: string): string {
  return `ds=nocloud-net;s=${seedUrl}`;
}

/** YAML double-quoted scalar. */
function yamlString(value: string): string {
  return JSON.stringify(value);
}

export function noCloudSeed(options: {
  readonly instanceId: string;
  readonly publicKey: string;
  /** cloud-init POSTs here at the end of its final stage: the "booted" signal (none when absent). */
  readonly phoneHomeUrl?: string;
}): NoCloudSeed {
  return {
    "meta-data": `instance-id: ${yamlString(options.instanceId)}\nlocal-hostname: ${GUEST_HOSTNAME}\n`,
    "user-data": [
      "#cloud-config",
      "users:",
      "  - default",
      "ssh_pwauth: false",
      "ssh_authorized_keys:",
      `  - ${yamlString(options.publicKey.trim())}`,
      ...(options.phoneHomeUrl !== undefined
        ? [
            "phone_home:",
            `  url: ${yamlString(options.phoneHomeUrl)}`,
            "  post: [instance_id, hostname]",
            "  tries: 3",
          ]
        : []),
      "",
    ].join("\n"),
    "vendor-data": "#cloud-config\n{}\n",
  };
}

/** A value for context.sh, which one-context sources with bash: single-quoted. */
function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** context.sh as OpenNebula writes it on the CONTEXT volume (the variables upstream's test sets). */
export function openNebulaContext(options: {
  readonly user: string;
  readonly publicKey: string;
  readonly mac: string;
}): string {
  const vars: [string, string][] = [
    ["SET_HOSTNAME", GUEST_HOSTNAME],
    ["USERNAME", options.user],
    ["SSH_PUBLIC_KEY", options.publicKey.trim()],
    ["NETWORK", "YES"],
    ["START_SSHD", "YES"],
    ["ETH0_MAC", options.mac],
    ["ETH0_METHOD", "dhcp"],
    ["ETH0_IP6_METHOD", "skip"],
    ["ETH0_DNS", "10.0.2.3"],
  ];
  return `${vars.map(([k, v]) => `${k}=${shellQuote(v)}`).join("\n")}\n`;
}
