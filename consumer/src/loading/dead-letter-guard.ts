/**
 * Stops the consumer when too large a share of recent messages are dead letters: a wrong topic or an
 * incompatible producer should halt the pipeline loudly, not drain the whole topic into the dead-letter
 * topic.
 */

// Below this many messages a share says little (one bad message in three is not a trend).
const MIN_SAMPLE = 100;

export interface GuardVerdict {
  tripped: boolean;
  deadLetters: number;
  messages: number;
  /** The dead letters' share of the recent messages, 0 until there are enough of them to judge. */
  share: number;
}

export class DeadLetterGuard {
  private readonly batches: { messages: number; deadLetters: number }[] = [];
  private messages = 0;
  private deadLetters = 0;

  /** `maxRatio` 1 turns the guard off; `window` is how many recent messages are judged. */
  constructor(private readonly options: { maxRatio: number; window: number }) {}

  record(messages: number, deadLetters: number): GuardVerdict {
    this.batches.push({ messages, deadLetters });
    this.messages += messages;
    this.deadLetters += deadLetters;
    while (this.batches.length > 1 && this.messages - (this.batches[0]?.messages ?? 0) >= this.options.window) {
      const oldest = this.batches.shift();
      this.messages -= oldest?.messages ?? 0;
      this.deadLetters -= oldest?.deadLetters ?? 0;
    }
    const sampled = this.messages >= Math.min(MIN_SAMPLE, this.options.window);
    const share = sampled ? this.deadLetters / this.messages : 0;
    const tripped = this.options.maxRatio < 1 && share > this.options.maxRatio;
    return { tripped, deadLetters: this.deadLetters, messages: this.messages, share };
  }
}
