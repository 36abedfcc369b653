export {
  type AddressLimitDeps,
  enforceAddressLimit,
  enforceLimit,
  type LimitPolicies,
  limitByAddress,
  limitPolicies,
  requireAddressBudget,
} from './rate-limit.js';
