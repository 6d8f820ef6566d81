/** Human names for partition types (GPT type GUIDs as sgdisk names them; MBR type bytes as fdisk does). */

const GPT_TYPES: Readonly<Record<string, string>> = {
  "0FC63DAF-8483-4772-8E79-3D69D8477DE4": "Linux filesystem",
  "C12A7328-F81F-11D2-BA4B-00A0C93EC93B": "EFI system partition",
  "21686148-6449-6E6F-744E-656564454649": "BIOS boot partition",
  "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709": "Linux x86-64 root (/)",
  "B921B045-1DF0-41C3-AF44-4C6F280D3FAE": "Linux ARM64 root (/)",
  "44479540-F297-41B2-9AF7-D131D5F0458A": "Linux x86 root (/)",
  "8484680C-9521-48C6-9C11-B0720656F69E": "Linux x86-64 /usr",
  "BC13C2FF-59E6-4262-A352-B275FD6F7172": "XBOOTLDR partition",
  "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F": "Linux swap",
  "E6D6D379-F507-44C2-A23C-238F2A3DF928": "Linux LVM",
  "A19D880F-05FC-4D3B-A006-743F0F84911E": "Linux RAID",
  "933AC7E1-2EB4-4F13-B844-0E14E2AEF915": "Linux /home",
  "3B8F8425-20E0-4F3B-907F-1A25A76F98E8": "Linux /srv",
  "4D21B016-B534-45C2-A9FB-5C16E091FD2D": "Linux /var",
  "7EC6F557-3BC5-4ACA-B293-16EF5DF639D1": "Linux /var/tmp",
  "8DA63339-0007-60C0-C436-083AC8230908": "Linux reserved",
  "9E1A2D38-C612-4316-AA26-8B49521E5A8B": "PowerPC PReP boot",
  "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7": "Microsoft basic data",
  "E3C9E316-0B5C-4DB8-817D-F92DF00215AE": "Microsoft reserved",
};

/** sgdisk's name for a GPT partition type GUID (upper or lower case); "Unknown" when not in the list. */
export function gptTypeName(guid: string): string {
  return GPT_TYPES[guid.toUpperCase()] ?? "Unknown";
}

const MBR_TYPES: Readonly<Record<number, string>> = {
  1: "FAT12",
  4: "FAT16 <32M",
  5: "Extended",
  6: "FAT16",
  7: "HPFS/NTFS/exFAT",
  11: "W95 FAT32",
  12: "W95 FAT32 (LBA)",
  14: "W95 FAT16 (LBA)",
  15: "W95 Ext'd (LBA)",
  65: "PPC PReP Boot",
  130: "Linux swap / Solaris",
  131: "Linux",
  133: "Linux extended",
  142: "Linux LVM",
  238: "GPT",
  239: "EFI (FAT-12/16/32)",
  253: "Linux raid autodetect",
};

/** fdisk's name for an MBR partition type byte; "Unknown" when not in the list. */
export function mbrTypeName(type: number): string {
  return MBR_TYPES[type] ?? "Unknown";
}

/** MBR types that hold an extended partition (a chain of EBRs with logical partitions). */
export function isExtendedMbrType(type: number): boolean {
  return type === 0x05 || type === 0x0f || type === 0x85;
}
