/**
 * Progress on standard error: on a terminal an updating bar (one line, redrawn), otherwise a few
 * plain lines (every 25 %), so logs and CI output stay short.
 */
import { int, size } from './format.js';

export interface ProgressSink {
  isTTY?: boolean;
  write(s: string): unknown;
}

/** A download progress bar: `update(received, total)`, then `done()`. */
export class ProgressBar {
  private lastQuarter = -1;
  private lastDraw = 0;
  private finished = false;

  constructor(private readonly sink: ProgressSink, private readonly label: string, private readonly width = 30) {}

  update(received: number, total: number | undefined): void {
    if (this.finished) return;
    const pct = total ? Math.min(100, Math.floor((received * 100) / total)) : undefined;
    if (this.sink.isTTY) {
      const now = Date.now();
      if (now - this.lastDraw < 30 && (total === undefined || received < total)) return;
      this.lastDraw = now;
      const filled = pct === undefined ? 0 : Math.round((pct * this.width) / 100);
      const bar = pct === undefined ? '' : `[${'█'.repeat(filled)}${'░'.repeat(this.width - filled)}] ${String(pct).padStart(3)} % `;
      this.sink.write(`\r\x1b[2K    ${this.label} ${bar}${size(received)}${total ? ` / ${size(total)}` : ''}`);
      return;
    }
    const q = pct === undefined ? Math.floor(received / 1048576) : Math.floor(pct / 25);
    if (q === this.lastQuarter) return;
    this.lastQuarter = q;
    this.sink.write(pct === undefined ? `    ${this.label}: ${int(received)} B\n` : `    ${this.label}: ${pct} % (${int(received)} of ${int(total!)} B)\n`);
  }

  done(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.sink.isTTY && this.lastDraw > 0) this.sink.write('\n');
  }
}

/** The load step's single progress line: `devices: 523/1000 done, 0 failed`. */
export class CountLine {
  private lastQuarter = -1;
  private lastDraw = 0;

  constructor(private readonly sink: ProgressSink, private readonly label: string, private readonly total: number) {}

  update(done: number, failed: number): void {
    const text = `    ${this.label}: ${int(done)}/${int(this.total)} done, ${int(failed)} failed`;
    if (this.sink.isTTY) {
      const now = Date.now();
      if (now - this.lastDraw < 100 && done < this.total) return;
      this.lastDraw = now;
      this.sink.write(`\r\x1b[2K${text}`);
      if (done >= this.total) this.sink.write('\n');
      return;
    }
    const q = Math.floor((done * 4) / this.total);
    if (q === this.lastQuarter) return;
    this.lastQuarter = q;
    this.sink.write(`${text}\n`);
  }
}
