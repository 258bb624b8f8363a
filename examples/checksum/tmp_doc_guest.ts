
import { regions, log } from "@vmwindow/guest";

let input: u32 = 0;

/** Sum of the f64 values in the region named "values". */
export function total(): f64 {
  if (input == 0) {
    let found = regions.find("values");
    if (found === null) abort("no region named values");
    input = found!.id;
  }
  let values = regions.get(input).view<f64>();
  let sum: f64 = 0;
  for (let i: usize = 0, n = values.length; i < n; ++i) sum += unchecked(values[i]);
  log("summed " + values.length.toString() + " values");
  return sum;
}
