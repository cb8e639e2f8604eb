import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package's C addon, native/build/Release/nabla_native.node: the elementwise loops (native/elementwise.c, used by
 * shared/kernel/elementwise.ts) and the mapping of shared-memory lanes (native/shared-map.c, used by
 * shared/protocol/shm.ts). Built by `npm install` where a C compiler is there (scripts/build-native.mjs); everything
 * it does has a TypeScript fallback with the same results, taken when it is missing or with NABLA_NATIVE=off.
 */
export type NativeAddon = Record<string, unknown>;

const ADDON_PATH = join('native', 'build', 'Release', 'nabla_native.node');

/** The addon's file: native/build/Release under the package root, found upwards from this module (src or dist). */
function findAddon(): string | null {
  for (let dir = dirname(fileURLToPath(import.meta.url)), up = 0; up < 4; up++, dir = dirname(dir)) {
    const candidate = join(dir, ADDON_PATH);
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

function load(): { addon: NativeAddon; path: string } | string {
  if (process.env.NABLA_NATIVE === 'off') return 'NABLA_NATIVE=off';
  const path = findAddon();
  if (path === null) return `${ADDON_PATH} not built (npm install builds it when a C compiler is there; or run npm run build:native)`;
  try {
    return { addon: createRequire(import.meta.url)(path) as NativeAddon, path };
  } catch (error) {
    return `${path}: ${(error as Error).message}`;
  }
}

/** The addon and its file, or why it is not available; loaded once per process. */
export const nativeAddon = load();
