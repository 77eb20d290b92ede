/**
 * The order that makes offsets safe to commit: each partition's batches are stored and committed one
 * after another, in the order Kafka delivered them, while different partitions proceed side by side.
 */
export class PartitionQueue {
  // Per partition, the completion of its newest work.
  private readonly tails = new Map<string, Promise<void>>();

  /**
   * Starts `work` once the partition's earlier work has finished, and returns the earlier work's
   * completion. `work` must never reject: a failure has to be handled inside it.
   */
  enqueue(partition: string, work: () => Promise<void>): Promise<void> {
    const previous = this.tails.get(partition) ?? Promise.resolve();
    const current = previous.then(work);
    this.tails.set(partition, current);
    void current.then(() => {
      if (this.tails.get(partition) === current) this.tails.delete(partition);
    });
    return previous;
  }

  /** Resolves once every work queued so far has finished. */
  async drain(): Promise<void> {
    await Promise.all(this.tails.values());
  }
}
