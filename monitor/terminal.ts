/**
 * The terminal side of the dashboard: alternate screen, hidden cursor, raw keys, redraw in place on every frame
 * and on resize; and the terminal restored however the process ends.
 */

import { visibleLength } from './format.js';

const ENTER = '\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J';
const LEAVE = '\x1b[0m\x1b[?25h\x1b[?1049l';

export interface ScreenSize { columns: number; rows: number }

/** A full-screen view on a TTY. `draw(size)` is called to get the lines for each frame. */
export class TerminalScreen {
  private isActive = false;
  private pending: NodeJS.Timeout | null = null;
  private lastFrameMs = 0;
  private readonly restoreOnExit = (): void => this.restore();

  constructor(
    private readonly output: NodeJS.WriteStream,
    private readonly input: NodeJS.ReadStream,
    private readonly render: (size: ScreenSize) => string[],
    private readonly onQuit: () => void,
    /** At most one frame per this many ms; updates in between are merged into the next frame. */
    private readonly minFrameMs = 100,
  ) {}

  start(): void {
    this.isActive = true;
    this.output.write(ENTER);
    // However we leave (an exception, process.exit), give the user back a normal terminal.
    process.on('exit', this.restoreOnExit);
    // Node turns SIGWINCH into 'resize' on a TTY stream, after updating its columns and rows.
    this.output.on('resize', this.onResize);
    if (this.input.isTTY) this.input.setRawMode(true);
    this.input.setEncoding('utf8');
    this.input.on('data', this.onKey);
    this.input.resume();
    this.redraw();
  }

  /** Asks for a new frame (throttled). */
  requestRedraw(): void {
    if (!this.isActive || this.pending) return;
    const waitMs = Math.max(0, this.lastFrameMs + this.minFrameMs - Date.now());
    this.pending = setTimeout(() => {
      this.pending = null;
      this.redraw();
    }, waitMs);
  }

  stop(): void {
    if (!this.isActive) return;
    if (this.pending) clearTimeout(this.pending);
    this.pending = null;
    this.output.off('resize', this.onResize);
    this.input.off('data', this.onKey);
    if (this.input.isTTY) this.input.setRawMode(false);
    this.input.pause();
    this.restore();
    process.off('exit', this.restoreOnExit);
  }

  private restore(): void {
    if (!this.isActive) return;
    this.isActive = false;
    this.output.write(LEAVE);
  }

  private readonly onResize = (): void => {
    if (!this.isActive) return;
    // The whole screen may hold stale cells after a resize: clear it, then draw at the new size.
    this.output.write('\x1b[2J');
    this.redraw();
  };

  private readonly onKey = (keys: string): void => {
    if (keys.startsWith('\x1b')) return; // arrows, function keys: escape sequences, some ending in letters
    if (/[qQ\x03]/.test(keys)) this.onQuit();
    else if (keys.includes('\x0c')) this.onResize(); // Ctrl-L repaints
  };

  private redraw(): void {
    if (!this.isActive) return;
    this.lastFrameMs = Date.now();
    const size = { columns: this.output.columns || 80, rows: this.output.rows || 24 };
    const lines = this.render(size);
    // One write per frame: home, each line then erase to its end, erase below if short; no flicker from clearing first.
    // A full-width line gets no erase: with the cursor parked on the last column, it would erase that character.
    const erased = lines.map((line) => (visibleLength(line) < size.columns ? `${line}\x1b[K` : line));
    this.output.write(`\x1b[H${erased.join('\r\n')}${lines.length < size.rows ? '\x1b[J' : ''}`);
  }
}
