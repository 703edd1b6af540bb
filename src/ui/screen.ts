/**
 * Alternate screen handling: entered once, left on every exit path (normal
 * quit, SIGTERM/SIGHUP/SIGINT, uncaught exceptions, process exit).
 */
export const ENTER_ALT = '\x1b[?1049h\x1b[H';
export const LEAVE_ALT = '\x1b[?25h\x1b[?1049l';

export interface Screen {
  enter(): void;
  leave(): void;
  /** true while a child owns the terminal (SIGINT goes to it, not to us) */
  handingOff: boolean;
  dispose(): void;
}

export function installScreen(out: NodeJS.WriteStream, onFatal: (code: number, err?: unknown) => void): Screen {
  let inAlt = false;
  const screen: Screen = {
    handingOff: false,
    enter() {
      if (inAlt) return;
      out.write(ENTER_ALT);
      inAlt = true;
    },
    leave() {
      if (!inAlt) return;
      out.write(LEAVE_ALT);
      inAlt = false;
    },
    dispose() {
      screen.leave();
      for (const [ev, fn] of handlers) process.off(ev as NodeJS.Signals, fn as () => void);
    },
  };
  const sig = (name: NodeJS.Signals, code: number) => () => {
    if (name === 'SIGINT' && screen.handingOff) return;
    screen.leave();
    onFatal(code);
  };
  const crash = (err: unknown) => {
    screen.leave();
    onFatal(1, err);
  };
  const handlers: [string, (...a: unknown[]) => void][] = [
    ['SIGTERM', sig('SIGTERM', 143)],
    ['SIGHUP', sig('SIGHUP', 129)],
    ['SIGINT', sig('SIGINT', 130)],
    ['uncaughtException', crash],
    ['unhandledRejection', crash],
    ['exit', () => screen.leave()],
  ];
  for (const [ev, fn] of handlers) process.on(ev as NodeJS.Signals, fn as () => void);
  return screen;
}

type ReadInternals = { _read: (n: number) => void; _handle?: { reading?: boolean; readStop?: () => number } };

/**
 * Keep this process from reading the terminal while a child owns it. A
 * paused tty stream still reads ahead, and a 'readable' event Ink queued
 * before unmounting calls read() again, which restarts reading: either way
 * the child's keystrokes would be swallowed. So reading is stopped and
 * `_read` made a no-op until the returned release() puts it back and
 * starts reading again.
 */
export function holdInput(stdin: NodeJS.ReadStream): () => void {
  const s = stdin as unknown as ReadInternals;
  const orig = s._read;
  s._read = () => undefined;
  stdin.pause();
  if (s._handle?.readStop && s._handle.reading) {
    s._handle.reading = false;
    s._handle.readStop();
  }
  return () => {
    s._read = orig;
    // a read() during the hold left the stream waiting for data: start reading
    orig.call(stdin, 16384);
  };
}
