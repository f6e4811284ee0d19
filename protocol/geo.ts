/** Great-circle distance for nearest-host routing (docs/protocol.md). */

export interface GeoPoint {
  latitude: number;
  longitude: number;
}

const EARTH_RADIUS_KM = 6371.0088;
const toRadians = (degrees: number) => (degrees * Math.PI) / 180;

/** Haversine distance between two points, in kilometres. */
export function haversineKm(a: GeoPoint, b: GeoPoint): number {
  const dLat = toRadians(b.latitude - a.latitude);
  const dLon = toRadians(b.longitude - a.longitude);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(toRadians(a.latitude)) * Math.cos(toRadians(b.latitude)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** True when the pair is a valid latitude/longitude in degrees. */
export function isGeoPoint(latitude: number, longitude: number): boolean {
  return Number.isFinite(latitude) && Number.isFinite(longitude) && Math.abs(latitude) <= 90 && Math.abs(longitude) <= 180;
}

/**
 * Orders items by distance from `origin`, nearest first; the sort is stable so equal distances
 * keep the caller's order (which carries the tie-breaker). Without an origin the order is kept.
 */
export function orderByDistance<T extends GeoPoint>(items: readonly T[], origin: GeoPoint | null): T[] {
  if (!origin) return [...items];
  return items
    .map((item, index) => ({ item, index, km: haversineKm(origin, item) }))
    .sort((a, b) => a.km - b.km || a.index - b.index)
    .map((entry) => entry.item);
}
