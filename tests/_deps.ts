// Test-only dependencies, pinned here so the library itself has none.
// fast-check is the standard property-testing library for JavaScript.
export { default as fc } from "npm:fast-check@4.3.0";
