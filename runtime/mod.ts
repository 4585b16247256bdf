/**
 * Runtime.
 *
 * @module
 */

export {};
