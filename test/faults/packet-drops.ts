/**
 * Silent networks on loopback: iptables rules that drop packets (connections are not refused or reset;
 * what is sent simply never arrives, as in a partition, a frozen host or a NAT that forgot a flow).
 * Rules live in one chain of the suite's own, jumped to from INPUT (every loopback packet passes it), and
 * are removed when a fault ends, when the suite ends, and at the process's exit, even after a failure;
 * a chain left by a run that was killed is emptied at the next start.
 */
import { execFileSync } from 'node:child_process';

const CHAIN = 'USER_ACTIONS_FAULTS';

function iptables(...args: string[]): void {
  execFileSync('iptables', ['-w', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

function succeeds(...args: string[]): boolean {
  try {
    iptables(...args);
    return true;
  } catch {
    return false;
  }
}

/** A set of rules in force: `lift` removes them (once; later calls do nothing). */
export interface Silence {
  lift(): void;
}

export interface PacketDrops {
  /** Every packet to and from `port` on each of `hosts` (new connections time out too). */
  silencePort(port: number, hosts?: string[]): Silence;
  /** Only the established connections from these client ports to `port`: new connections still pass. */
  silenceConnections(port: number, clientPorts: number[]): Silence;
  /** Removes every rule and the chain. */
  remove(): void;
}

/** Installs the chain; fails (rather than skipping the faults that need it) when iptables cannot. */
export function createPacketDrops(): PacketDrops {
  try {
    if (!succeeds('-n', '-L', CHAIN)) iptables('-N', CHAIN);
    iptables('-F', CHAIN);
    if (!succeeds('-C', 'INPUT', '-j', CHAIN)) iptables('-I', 'INPUT', '1', '-j', CHAIN);
  } catch (error) {
    throw new Error(
      `the network faults drop packets with iptables, which failed here (install the iptables package; run as root): ${String(
        (error as { stderr?: Buffer }).stderr ?? error,
      )}`,
    );
  }
  const remove = () => {
    if (succeeds('-n', '-L', CHAIN)) {
      while (succeeds('-D', 'INPUT', '-j', CHAIN)) {}
      iptables('-F', CHAIN);
      iptables('-X', CHAIN);
    }
  };
  process.once('exit', remove);

  const install = (rules: string[][]): Silence => {
    for (const rule of rules) iptables('-A', CHAIN, ...rule);
    let lifted = false;
    return {
      lift() {
        if (lifted) return;
        lifted = true;
        for (const rule of rules) succeeds('-D', CHAIN, ...rule);
      },
    };
  };

  return {
    silencePort(port, hosts = ['127.0.0.1']) {
      return install(
        hosts.flatMap((host) => [
          ['-p', 'tcp', '-d', host, '--dport', String(port), '-j', 'DROP'],
          ['-p', 'tcp', '-s', host, '--sport', String(port), '-j', 'DROP'],
        ]),
      );
    },
    silenceConnections(port, clientPorts) {
      return install(
        clientPorts.flatMap((clientPort) => [
          ['-p', 'tcp', '--sport', String(clientPort), '--dport', String(port), '-j', 'DROP'],
          ['-p', 'tcp', '--sport', String(port), '--dport', String(clientPort), '-j', 'DROP'],
        ]),
      );
    },
    remove() {
      process.off('exit', remove);
      remove();
    },
  };
}

/** The local ports of the established TCP connections of process `pid` to `port`, from `ss`. */
export function clientPortsOf(pid: number, port: number): number[] {
  const out = execFileSync('ss', ['-Htnp', 'state', 'established', `( dport = :${port} )`], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((line) => line.includes(`pid=${pid},`))
    .map((line) => Number(/:(\d+)\s+\S+:\d+\s/.exec(line)?.[1]))
    .filter((clientPort) => Number.isInteger(clientPort) && clientPort > 0);
}
