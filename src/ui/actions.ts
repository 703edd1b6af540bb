/** Which actions a container row offers in its current state (pure). */
import type { ContainerInfo } from '../engine/types.js';

export type Action = 'start' | 'stop' | 'restart' | 'remove' | 'enable' | 'disable' | 'shell';

export function validActions(c: Pick<ContainerInfo, 'status' | 'enabled'>, busy?: string): Action[] {
  const out: Action[] = [];
  if (busy) {
    // only stop escalation is offered while something is in flight
    return busy === 'stop' || busy === 'terminate' || c.status === 'starting' || c.status === 'stopping' ? ['stop'] : [];
  }
  switch (c.status) {
    case 'stopped':
      out.push('start', 'remove');
      break;
    case 'running':
      out.push('stop', 'restart', 'shell', 'remove');
      break;
    case 'starting':
    case 'stopping':
      out.push('stop');
      break;
  }
  out.push(c.enabled ? 'disable' : 'enable');
  return out;
}

/** Next stop tier when stop is pressed again on a container already stopping. */
export function nextStopMode(current: string | undefined): 'graceful' | 'term' | 'kill' {
  if (current === 'stop') return 'term';
  if (current === 'terminate') return 'kill';
  if (current === 'kill') return 'kill';
  return 'graceful';
}
