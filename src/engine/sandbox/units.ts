/**
 * Which unit links the sandbox clone gets in its (opaque) /etc/systemd/system.
 * Pure: the caller lists the lower root's links and says which unit files exist.
 */

export interface UnitLink {
  /** path relative to etc/systemd/system */
  path: string;
  /** symlink target */
  target: string;
}

const UNIT_DIR = '/lib/systemd/system';

/**
 * The clone's /etc/systemd/system is opaque (the host's enablements - sshd,
 * postgresql, getty, timers - make no sense in a throwaway host). What it gets:
 * - the lower root's `dbus.service` alias, if it has one (dbus-broker systems);
 * - systemd-networkd (+ socket, + D-Bus alias) enabled: the sandbox has its own
 *   network namespace and sdme's zones/veths need networkd there;
 * - systemd-resolved (+ alias) enabled when installed;
 * - machines.target, as a booted host would have it.
 * `lowerLinks` are the top-level symlinks of the lower /etc/systemd/system (name -> target).
 */
export function cloneUnitLinks(lowerLinks: ReadonlyMap<string, string>, haveUnit: (unit: string) => boolean): UnitLink[] {
  const out: UnitLink[] = [];
  const dbusAlias = lowerLinks.get('dbus.service');
  if (dbusAlias !== undefined) out.push({ path: 'dbus.service', target: dbusAlias });
  if (haveUnit('systemd-networkd.service')) {
    out.push({ path: 'multi-user.target.wants/systemd-networkd.service', target: `${UNIT_DIR}/systemd-networkd.service` });
    out.push({ path: 'dbus-org.freedesktop.network1.service', target: `${UNIT_DIR}/systemd-networkd.service` });
    if (haveUnit('systemd-networkd.socket')) {
      out.push({ path: 'sockets.target.wants/systemd-networkd.socket', target: `${UNIT_DIR}/systemd-networkd.socket` });
    }
  }
  if (haveUnit('systemd-resolved.service')) {
    out.push({ path: 'sysinit.target.wants/systemd-resolved.service', target: `${UNIT_DIR}/systemd-resolved.service` });
    out.push({ path: 'dbus-org.freedesktop.resolve1.service', target: `${UNIT_DIR}/systemd-resolved.service` });
  }
  if (haveUnit('machines.target')) {
    out.push({ path: 'multi-user.target.wants/machines.target', target: `${UNIT_DIR}/machines.target` });
  }
  return out;
}
