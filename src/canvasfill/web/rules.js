// The doors' declared fields and image limits, as the server publishes them at
// /web/rules.json (api/page_rules.py). The page's checks and "copy as code" read their
// numbers from here, so a changed declaration on the server changes the page.

export const RULES_URL = "/web/rules.json";

export class Rules {
  /** @param {object} json  the /web/rules.json document */
  constructor(json) {
    this.json = json;
    this.seedMax = json.seed_max;
  }

  door(name) {
    const door = this.json.doors[name];
    if (!door) throw new Error(`the server declares no door ${name}`);
    return door;
  }

  /** The image limits of door `name` (formats, max_bytes, min_side...). */
  image(name) {
    return this.door(name).image;
  }

  /** Whether the create operation at `path` of door `name` declares field `field`. */
  has(name, path, field) {
    return Boolean(this.door(name).paths[path]?.[field]);
  }

  /** The rule of one field ({type, minimum, maximum, enum, default, fields...}). */
  field(name, path, field) {
    const fields = this.door(name).paths[path];
    if (!fields) throw new Error(`door ${name} declares no operation at ${path}`);
    const rule = fields[field];
    if (!rule) throw new Error(`${path} declares no field ${field}`);
    return rule;
  }
}

/** Whether `value` lies within `rule`'s declared range (and is whole, for integers). */
export function inRange(rule, value) {
  if (!Number.isFinite(value)) return false;
  if (rule.type === "integer" && !Number.isInteger(value)) return false;
  if (rule.minimum !== undefined && value < rule.minimum) return false;
  if (rule.exclusiveMinimum !== undefined && value <= rule.exclusiveMinimum) return false;
  if (rule.maximum !== undefined && value > rule.maximum) return false;
  if (rule.exclusiveMaximum !== undefined && value >= rule.exclusiveMaximum) return false;
  return true;
}

/** A field's range in words: "0.1..1", "above 0 and up to 1", "1..20". */
export function rangeText(rule) {
  const low = rule.minimum ?? rule.exclusiveMinimum;
  const high = rule.maximum ?? rule.exclusiveMaximum;
  if (rule.exclusiveMinimum !== undefined) return `above ${low}${high !== undefined ? ` and up to ${high}` : ""}`;
  if (low !== undefined && high !== undefined) return `${low}..${high}`;
  if (low !== undefined) return `from ${low}`;
  return high !== undefined ? `up to ${high}` : "any value";
}

export async function loadRules() {
  const response = await fetch(RULES_URL);
  if (!response.ok) throw new Error(`the page's rules could not be loaded (${response.status})`);
  return new Rules(await response.json());
}
