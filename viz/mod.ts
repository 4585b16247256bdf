/**
 * Viz adapter.
 *
 * @module
 */

export {};
