/** Follows a file another process writes (QEMU's console log): new bytes are handed on as they appear. */
import { type FileHandle, open } from "node:fs/promises";

export class FileTail {
  private handle: FileHandle | undefined;
  private offset = 0;
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> = Promise.resolve();

  constructor(
    private readonly path: string,
    private readonly onData: (chunk: Buffer) => void,
    private readonly intervalMs = 250,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.reading = this.reading.then(() => this.poll());
    }, this.intervalMs);
  }

  /** Stops following after reading what is there now. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.reading = this.reading.then(() => this.poll());
    await this.reading;
    await this.handle?.close();
    this.handle = undefined;
  }

  private async poll(): Promise<void> {
    try {
      this.handle ??= await open(this.path, "r");
    } catch {
      return; // not created yet
    }
    const buffer = Buffer.alloc(64 * 1024);
    for (;;) {
      const { bytesRead } = await this.handle.read(buffer, 0, buffer.length, this.offset);
      if (bytesRead === 0) return;
      this.offset += bytesRead;
      this.onData(Buffer.from(buffer.subarray(0, bytesRead)));
    }
  }
}
