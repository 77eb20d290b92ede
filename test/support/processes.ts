/** Whether a process of this machine is still running (signal 0 checks without signalling). */
export function processIsRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
