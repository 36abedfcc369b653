export { isUnsafePath, rejectUnsafePaths } from './path-guard.js';
