export { Heartbeat } from './heartbeat.js';
export { Shutdown, type ShutdownFailure, type ShutdownStep } from './shutdown.js';
