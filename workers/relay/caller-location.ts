/** Where the caller is: `request.cf` on Cloudflare, or a dev-only override header locally. */
import { type GeoPoint, isGeoPoint } from "../../protocol/geo.js";

/** Dev-only header `lat,lon` standing in for `request.cf`, which is a placeholder offline. */
export const DEV_LOCATION_HEADER = "x-conductor-dev-location";

export function callerLocation(request: Request, devMode: boolean): GeoPoint | null {
  if (devMode) {
    const override = request.headers.get(DEV_LOCATION_HEADER);
    if (override) {
      const [latitude, longitude] = override.split(",").map(Number);
      if (isGeoPoint(latitude, longitude)) return { latitude, longitude };
    }
  }
  const cf = (request as Request & { cf?: { latitude?: string | number; longitude?: string | number } }).cf;
  if (cf?.latitude === undefined || cf.longitude === undefined) return null;
  const latitude = Number(cf.latitude);
  const longitude = Number(cf.longitude);
  return isGeoPoint(latitude, longitude) ? { latitude, longitude } : null;
}
