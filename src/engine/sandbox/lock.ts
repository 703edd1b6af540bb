/**
 * One non-blocking exclusive flock per sandbox name, held while `up` or `down`
 * works, so two commands never build or tear down the same sandbox at once.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync, ftruncateSync } from 'node:fs';
import { dirname } from 'node:path';
import { flock, isWouldBlock, LOCK_EX, LOCK_NB, LOCK_UN } from '../../native/libc.js';
import { SdmeError } from '../errors.js';

export interface SandboxLock {
  release(): void;
}

export function lockSandbox(lockFile: string, name: string): SandboxLock {
  mkdirSync(dirname(lockFile), { recursive: true, mode: 0o700 });
  for (;;) {
    const fd = openSync(lockFile, 'a+', 0o600);
    try {
      flock(fd, LOCK_EX | LOCK_NB);
    } catch (e) {
      closeSync(fd);
      if (isWouldBlock(e)) {
        let holder = '';
        try {
          holder = readFileSync(lockFile, 'utf8').trim();
        } catch {
          // vanished meanwhile
        }
        throw new SdmeError(
          `sandbox '${name}' is busy: another sdme sandbox command${/^\d+$/.test(holder) ? ` (pid ${holder})` : ''} is bringing it up or down`,
        );
      }
      throw e;
    }
    // the holder before us may have unlinked the file: lock the current one
    let same = false;
    try {
      same = statSync(lockFile).ino === fstatSync(fd).ino;
    } catch {
      same = false;
    }
    if (!same) {
      closeSync(fd);
      continue;
    }
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`);
    let released = false;
    return {
      release() {
        if (released) return;
        released = true;
        try {
          unlinkSync(lockFile);
        } catch {
          // already gone
        }
        flock(fd, LOCK_UN);
        closeSync(fd);
      },
    };
  }
}
