import { InvalidArgumentError } from '../../errors/index.js';
import { parseModelVersion } from '../http/numeric-headers.js';

/**
 * The model version of a gRPC request's `version` / `model_version` string (Triton
 * `GetModelVersionFromString`): empty selects by version policy (undefined); otherwise read
 * as C `std::stol` reads it ("3abc" is 3).
 * @throws InvalidArgumentError "failed to get model version from specified version string
 *   '<v>' (details: stol), version should be an integral value > 0" when no number leads the
 *   string or it does not fit int64, and "invalid model version specified '<v>' , version
 *   should be an integral value > 0" when it is negative.
 */
export function parseGrpcModelVersion(version: string): number | undefined {
  const parsed = parseModelVersion(version);
  if (parsed !== undefined && parsed < 0) {
    throw new InvalidArgumentError(
      `invalid model version specified '${version}' , version should be an integral value > 0`,
    );
  }
  return parsed;
}
