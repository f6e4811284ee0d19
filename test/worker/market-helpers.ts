/** Helpers for the market's workerd tests: signed offers. */
import type { LocalAccount } from "viem";
import { signOfferMessage } from "../../protocol/market.js";
import { inAnHour, operatorNonce, postSigned, signingDomain } from "./helpers.js";

/** Signs a `PublishOffer` (defaults: eu-central, price 10, no models) with the operator's next nonce. */
export async function signOffer(operator: LocalAccount, fields: Record<string, unknown>) {
  return signOfferMessage(operator, signingDomain(), {
    operator: operator.address,
    region: "eu-central",
    models: [],
    contextLength: 0,
    pricePerComputeUnit: 10n,
    nonce: await operatorNonce(operator),
    deadline: inAnHour(),
    ...fields,
  });
}

export async function publishOffer(operator: LocalAccount, fields: Record<string, unknown>) {
  return postSigned("/v1/offers", await signOffer(operator, fields), "PUT");
}
