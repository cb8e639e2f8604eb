import type { Reporter, TrainEvent } from './events.js';
import { shapeOf } from '../shared/network/layout.js';
import { AUTO_CHECK } from './live-check.js';

const percent = (x: number | null): string => (x === null ? 'n/a' : `${(x * 100).toFixed(2)}%`);
const kib = (bytes: number): string => (bytes >= 1 << 20 ? `${(bytes / (1 << 20)).toFixed(1)} MiB` : `${(bytes / 1024).toFixed(0)} KiB`);
const rate = (x: number): string => (x >= 1000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0));

function clock(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--:--';
  const s = Math.round(seconds);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** A line per event for people; on a terminal, a progress bar with ETA redrawn in place (at most 10 times a second). */
export function humanReporter(stream: NodeJS.WriteStream = process.stdout): Reporter {
  const isTty = Boolean(stream.isTTY);
  let barShown = false;
  let lastDrawMs = 0;
  const startedMs = Date.now();
  const clearBar = (): void => {
    if (barShown) stream.write('\r\x1b[2K');
    barShown = false;
  };
  const line = (text: string): void => {
    clearBar();
    stream.write(text + '\n');
  };

  return {
    emit(event: TrainEvent) {
      switch (event.event) {
        case 'listening': return line(`coordinator listening on ${event.url}`);
        case 'start': return line(`training ${shapeOf(event.sizes)} on ${event.data}; ` +
          `${event.epochs} epoch${event.epochs === 1 ? '' : 's'}, mini-batch ${event.batch} in ${event.chunks === 1 ? '1 chunk' : `${event.chunks} chunks`}, eta ${event.eta}, ${event.cost} cost${event.lambda > 0 ? `, λ ${event.lambda}` : ''}, init ${event.init}, seed ${event.seed}, kernel ${event.kernelDescription}${event.dtype === 'float64' ? '' : ` (${event.dtype})`}, ` +
          (event.referenceBackend ? `TF.js reference check (${event.referenceBackend}) ${event.checkEvery === 'auto' ? `of the first step, then within ${AUTO_CHECK.shareOfTime * 100}% of the time` : `every ${event.checkEvery} steps`}` : 'no reference check'));
        case 'worker-joined': return line(`+ worker ${event.workerId} joined (${event.name}, ${event.address}, kernel ${event.kernel}${event.sharedMemory ? ', shared memory' : ''}); ${event.workers} connected`);
        case 'worker-left': return line(`- worker ${event.workerId} left: ${event.reason}; ${event.workers} connected`);
        case 'waiting': return line(`… ${event.message}`);
        case 'rejected': return line(`! refused ${event.reason}`);
        case 'warning': return line(`! ${event.message}`);
        case 'error': return line(`error: ${event.message}`);
        case 'step': return;
        case 'fan-out': return line(`steps use ${event.fanOut} of ${event.workers} workers (median step ` +
          `${event.trials.map((t) => `${t.fanOut} → ${t.medianMs.toFixed(2)} ms`).join(', ')}` +
          `${event.fanOut < event.workers ? '; --fan-out all uses every worker' : ''})`);
        case 'reference': return event.ok ? undefined : line(`! reference check of step ${event.step} failed: relative error ${event.maxRelError.toExponential(2)} > ${event.tolerance.toExponential(2)}`);
        case 'epoch': return line(`epoch ${event.epoch}: test accuracy ${percent(event.testAccuracy)}, train cost ${event.trainCost.toFixed(4)}, ` +
          `${rate(event.samplesPerSecond)} samples/s, ${event.trainSeconds.toFixed(1)} s, wire ${kib(event.bytesPerStep)}/step` +
          (event.sharedMemoryBytesPerStep > 0 ? ` (+ ${kib(event.sharedMemoryBytesPerStep)}/step in shared memory)` : ''));
        case 'eta': return line(`η halved to ${event.eta} for epoch ${event.epoch} (${event.reason})`);
        case 'stopped-early': return line(`stopping after epoch ${event.epoch}: ${event.reason}`);
        case 'saved': return line(`model saved to ${event.path}`);
        case 'saved-best': return line(`best so far (epoch ${event.epoch}, ${percent(event.testAccuracy)}) saved to ${event.path}`);
        case 'checkpoint': return;
        case 'resumed': return line(`resumed from ${event.path}: step ${event.step}, epoch ${event.epoch}, params ${event.paramHash}`);
        case 'done': return line(`done: ${event.epochs} epochs, ${event.steps} steps in ${event.seconds.toFixed(1)} s, ` +
          `${rate(event.samplesPerSecond)} samples/s, final test accuracy ${percent(event.testAccuracy)}, params ${event.paramHash}` +
          `\nwire: ${kib(event.bytesSent)} sent, ${kib(event.bytesReceived)} received, ${kib(event.bytesPerStep)}/step` +
          (event.bytesShared > 0 ? `; ${kib(event.bytesShared)} in shared memory` : '') +
          (event.badRows > 0 ? `; ${event.badRows} bad rows skipped` : '') +
          (event.referenceBackend ? `\n${event.referenceChecks} reference checks (TF.js ${event.referenceBackend}), ${event.referenceFailures} failed, worst relative error ${(event.worstReferenceRelError ?? 0).toExponential(2)}` : ''));
        default: {
          const unknown: never = event;
          return line(JSON.stringify(unknown));
        }
      }
    },
    progress(epoch, epochs, stepInEpoch, stepsPerEpoch, samplesPerSecond) {
      if (!isTty) return;
      const now = Date.now();
      if (now - lastDrawMs < 100 && stepInEpoch < stepsPerEpoch) return;
      lastDrawMs = now;
      if (stepsPerEpoch === 0) {
        // A stream of unknown length: no bar, no ETA.
        stream.write(`\r\x1b[2Kepoch ${epoch}/${epochs} step ${stepInEpoch} ${rate(samplesPerSecond)} samples/s`);
        barShown = true;
        return;
      }
      const done = (epoch - 1 + stepInEpoch / stepsPerEpoch) / epochs;
      const elapsed = (now - startedMs) / 1000;
      const width = 24;
      const filled = Math.round(done * width);
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      stream.write(`\r\x1b[2Kepoch ${epoch}/${epochs} ${bar} ${(done * 100).toFixed(0)}% step ${stepInEpoch}/${stepsPerEpoch} ` +
        `${rate(samplesPerSecond)} samples/s ETA ${clock(done > 0 ? (elapsed * (1 - done)) / done : NaN)}`);
      barShown = true;
    },
    close: clearBar,
  };
}
