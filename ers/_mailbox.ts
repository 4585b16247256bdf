// A bounded FIFO queue. Full is an error that names the bound, never a silent drop.

import { assert } from "./_assert.ts";

/** Thrown when a mailbox is asked to hold more messages than its capacity. */
export class MailboxFullError extends RangeError {
  override name = "MailboxFullError";
}

/** A bounded first-in, first-out mailbox. */
export class Mailbox<T> {
  readonly #owner: string;
  readonly #capacity: number;
  #items: T[] = [];
  #head = 0;

  constructor(owner: string, capacity: number) {
    assert(
      Number.isSafeInteger(capacity) && capacity > 0,
      "mailbox capacity is a positive integer",
    );
    this.#owner = owner;
    this.#capacity = capacity;
  }

  get length(): number {
    return this.#items.length - this.#head;
  }

  post(message: T): void {
    if (this.length >= this.#capacity) {
      throw new MailboxFullError(
        `Cannot post to the ${this.#owner} mailbox as it holds its maximum of ${this.#capacity} messages`,
      );
    }
    this.#items.push(message);
  }

  /** Drops every message, as when a tick is aborted. */
  clear(): void {
    this.#items = [];
    this.#head = 0;
  }

  /** Removes and returns the oldest message; the mailbox must not be empty. */
  take(): T {
    // The message is built only on failure: this line runs once per message.
    if (this.#head >= this.#items.length) {
      assert(false, `take() from the empty ${this.#owner} mailbox`);
    }
    const message = this.#items[this.#head] as T;
    this.#head++;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    }
    return message;
  }
}
