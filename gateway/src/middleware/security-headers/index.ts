export {
  applyResponseHeaders,
  corsAllowlist,
  newResponseHeaders,
  requestIdFor,
  SECURITY_HEADERS,
} from './security-headers.js';
