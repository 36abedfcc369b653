export { hasUnsafePath, isUnsafePath, unsafePathError } from './path-guard.js';
