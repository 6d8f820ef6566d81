/** CRC-32C against published check values (RFC 3720 appendix B.4 and the catalogue check "123456789"). */
import { describe, expect, it } from "vitest";
import { crc32c, crc32cRaw, crc32cSkipping, xfsCrcOk } from "../../src/fs/crc32c.js";

describe("crc32c", () => {
  it("matches the published check values", () => {
    expect(crc32c(Buffer.from("123456789"))).toBe(0xe3069283);
    expect(crc32c(Buffer.alloc(32))).toBe(0x8a9136aa);
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43);
    expect(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i)))).toBe(0x46dd794e);
    expect(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i)))).toBe(0x113fdb5c);
  });

  it("checksums a block as if its own checksum field were zero", () => {
    const block = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 7) & 0xff));
    const zeroed = Buffer.from(block);
    zeroed.fill(0, 20, 24);
    expect(crc32cSkipping(block, 20)).toBe(crc32c(zeroed));
    block.writeUInt32LE(crc32c(zeroed), 20);
    expect(xfsCrcOk(block, 20)).toBe(true);
    block[40]! ^= 1;
    expect(xfsCrcOk(block, 20)).toBe(false);
  });
});

describe("crc32cRaw", () => {
  it("is the bare register update that the standard CRC inverts around, and chains", () => {
    const data = Buffer.from("123456789");
    expect(~crc32cRaw(0xffffffff, data) >>> 0).toBe(0xe3069283);
    const chained = crc32cRaw(crc32cRaw(0x12345678, data, 0, 4), data, 4);
    expect(chained).toBe(crc32cRaw(0x12345678, data));
  });
});
