export {
  type AddressLimitDeps,
  clientAddress,
  enforceLimit,
  type LimitPolicies,
  limitByAddress,
  limitPolicies,
  rateLimitHeaders,
} from './rate-limit.js';
