export { corsAllowlist, requestId, SECURITY_HEADERS, securityHeaders } from './security-headers.js';
