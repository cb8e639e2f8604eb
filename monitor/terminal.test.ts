import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { TerminalScreen, type ScreenSize } from './terminal.js';

/** Stand-ins for a TTY: an output that records what is written and has a size, an input we can type into. */
function fakeTty(columns = 20, rows = 3) {
  const written: string[] = [];
  const output = Object.assign(new PassThrough(), { columns, rows, isTTY: true });
  output.on('data', (chunk: Buffer) => written.push(chunk.toString()));
  const rawModes: boolean[] = [];
  const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: (on: boolean) => { rawModes.push(on); return input; } });
  return { written, rawModes, output: output as unknown as NodeJS.WriteStream, input: input as unknown as NodeJS.ReadStream };
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('TerminalScreen', () => {
  it('enters the alternate screen with the cursor hidden, draws in place, and restores the terminal on stop', async () => {
    const tty = fakeTty();
    const sizes: ScreenSize[] = [];
    const screen = new TerminalScreen(tty.output, tty.input, (size) => { sizes.push(size); return ['one', 'twenty characters ok', 'three']; }, () => undefined);
    screen.start();
    screen.stop();
    await flush();
    const all = tty.written.join('');
    expect(all.startsWith('\x1b[?1049h\x1b[?25l')).toBe(true);
    expect(all).toContain('\x1b[Hone\x1b[K\r\ntwenty characters ok\r\nthree\x1b[K');
    expect(all.endsWith('\x1b[0m\x1b[?25h\x1b[?1049l')).toBe(true);
    expect(sizes).toEqual([{ columns: 20, rows: 3 }]);
    expect(tty.rawModes).toEqual([true, false]);
  });

  it('quits on q and on Ctrl-C, but not on an escape sequence that ends in a letter', async () => {
    for (const [keys, quits] of [['q', true], ['\x03', true], ['\x1bOQ', false], ['x', false]] as const) {
      const tty = fakeTty();
      let quit = false;
      const screen = new TerminalScreen(tty.output, tty.input, () => [], () => { quit = true; });
      screen.start();
      (tty.input as unknown as PassThrough).write(keys);
      await flush();
      screen.stop();
      expect(quit, JSON.stringify(keys)).toBe(quits);
    }
  });

  it('redraws at the new size when the terminal is resized', async () => {
    const tty = fakeTty(20, 3);
    const sizes: ScreenSize[] = [];
    const screen = new TerminalScreen(tty.output, tty.input, (size) => { sizes.push(size); return []; }, () => undefined);
    screen.start();
    Object.assign(tty.output, { columns: 100, rows: 30 });
    tty.output.emit('resize');
    screen.stop();
    expect(sizes).toEqual([{ columns: 20, rows: 3 }, { columns: 100, rows: 30 }]);
  });
});
