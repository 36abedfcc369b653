export {
  type AddressLimitDeps,
  enforceAddressLimit,
  enforceLimit,
  type LimitPolicies,
  limitByAddress,
  limitPolicies,
} from './rate-limit.js';
