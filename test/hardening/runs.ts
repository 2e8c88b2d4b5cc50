/**
 * How many cases the hardening suite runs. `npm run test:hardening` sets HARDENING_RUNS high
 * (the long run: at least a million cases per target); the regular `npm test` runs a short version.
 *
 * Finer knobs (environment): ENDPOINT_RUNS / ENDPOINT_HTTP_RUNS (endpoint fuzzing: cases through
 * the handler in process / over loopback HTTP), LOAD_DEVICES / LOAD_ROUNDS (the load test).
 */
export const RUNS = Number(process.env.HARDENING_RUNS ?? 5000);
export const LONG = RUNS >= 100_000;
