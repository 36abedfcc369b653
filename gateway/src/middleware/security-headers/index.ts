export {
  applyResponseHeaders,
  corsAllowlist,
  newResponseHeaders,
  requestIdFor,
} from './security-headers.js';
