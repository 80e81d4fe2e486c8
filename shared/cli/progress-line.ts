import type { LayerEvent } from "../analysis/inventory-image.js";
import { formatPlatform, type Platform } from "../model/image.js";

/** Progress of long pulls on one rewritten stderr line — only when stderr is a terminal. */
export class ProgressLine {
  private readonly enabled: boolean;
  private status = "";
  private lastDraw = 0;

  constructor(private readonly out: NodeJS.WriteStream) {
    this.enabled = Boolean(out.isTTY) && !process.env.CI;
  }

  layer(platform: Platform, e: LayerEvent): void {
    this.status = `${formatPlatform(platform)} layer ${e.index + 1}/${e.total} ${e.kind} ${e.layer.digest.slice(7, 19)}`;
    this.draw(true);
  }

  bytes(bytes: number, total: number | undefined): void {
    const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
    this.status =
      this.status.replace(/ \d+(\.\d+)? MB.*$/, "") + ` ${mb(bytes)} MB${total ? ` / ${mb(total)} MB` : ""}`;
    this.draw(false);
  }

  done(): void {
    if (this.enabled && this.lastDraw > 0) this.out.write("\r\x1b[K");
  }

  private draw(force: boolean): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < 100) return; // a terminal redraw per chunk would slow the pull
    this.lastDraw = now;
    this.out.write(`\r\x1b[K${this.status.slice(0, (this.out.columns || 100) - 1)}`);
  }
}
