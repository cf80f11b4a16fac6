//! The Terraform in `terraform/`, checked offline: provider binaries cannot be downloaded on these
//! machines, so `terraform validate` cannot run. Every `.tf` file is parsed with hcl-rs and the
//! promises of the trust page are asserted on the parsed configuration:
//!
//! - EU only: every `region` variable is validated to exactly the EU regions the functions accept
//!   (`functions::lambda::EU_REGIONS`) with default `eu-central-1`, providers use it, and no string
//!   anywhere names a region outside the EU.
//! - Every DynamoDB table is encrypted with the customer-managed key and keeps point-in-time
//!   recovery for the 7 days backups are promised (`kernel::policy::BACKUP_RETENTION`).
//! - No IAM policy written here has a `*` action or a `*` resource (the precise rule is on
//!   [`iam_findings`]).
//! - The schedules are the ones in `functions/schedules.json`: Terraform reads that very file and
//!   every deployed expression equals the code's (`functions::schedule::all()`).
//! - Backups keep 7 days; every Lambda is hardened (CMK, tracing, DLQ, reserved concurrency, an
//!   encrypted log group with retention); secrets only from sensitive variables; environments apart.
//!
//! The main checks are functions returning the problems they find, and each is also run against
//! deliberately broken copies of the real files (or small snippets), so a check that can no longer
//! fail is noticed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use hcl::eval::{Context, Evaluate, FuncArgs, FuncDef, ParamType};
use hcl::expr::{Expression, ObjectKey, TemplateExpr, TraversalOperator};
use hcl::{Attribute, Block, Body, Map, Value};

const ENVS: [&str; 3] = ["dev", "staging", "prod"];

/// AWS-managed policies a role here may have attached: X-Ray's write actions exist only with
/// resource `*` in AWS, and AWS Backup's service role policies are scoped by the backup selection.
const ALLOWED_MANAGED_POLICIES: [&str; 3] = [
    "AWSXRayDaemonWriteAccess",
    "AWSBackupServiceRolePolicyForBackup",
    "AWSBackupServiceRolePolicyForRestores",
];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn backup_days() -> u64 {
    match kernel::policy::BACKUP_RETENTION {
        kernel::time::Period::Hours(h) => {
            assert_eq!(h % 24, 0, "backup retention is whole days");
            u64::from(h / 24)
        }
        kernel::time::Period::Days(d) => u64::from(d),
        kernel::time::Period::Months(_) | kernel::time::Period::Years(_) => {
            panic!("backup retention in months or years")
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Loading

/// One Terraform module: the `.tf` files of one folder, parsed.
#[derive(Clone)]
struct Module {
    rel: String,
    dir: PathBuf,
    sources: Vec<(String, String)>,
    bodies: Vec<Body>,
}

impl Module {
    fn load(rel: &str) -> Module {
        let dir = repo().join("terraform").join(rel);
        let mut sources = Vec::new();
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "tf"))
            .collect();
        entries.sort();
        for path in entries {
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .to_string();
            let text = std::fs::read_to_string(&path).expect("read .tf");
            sources.push((name, text));
        }
        assert!(!sources.is_empty(), "no .tf files in terraform/{rel}");
        Module::from_sources(rel, dir, sources).unwrap_or_else(|e| panic!("{e}"))
    }

    fn from_sources(
        rel: &str,
        dir: PathBuf,
        sources: Vec<(String, String)>,
    ) -> Result<Module, String> {
        let bodies = sources
            .iter()
            .map(|(name, text)| {
                hcl::parse(text).map_err(|e| format!("terraform/{rel}/{name} does not parse: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Module {
            rel: rel.to_string(),
            dir,
            sources,
            bodies,
        })
    }

    /// A module parsed from a snippet, for the checks' own tests.
    fn snippet(text: &str) -> Module {
        Module::from_sources(
            "snippet",
            repo().join("terraform/modules/aws"),
            vec![("snippet.tf".into(), text.to_string())],
        )
        .expect("snippet parses")
    }

    /// The same module with `from` replaced by `to` in `file` — a planted mistake.
    fn with_edit(&self, file: &str, from: &str, to: &str) -> Module {
        let mut sources = self.sources.clone();
        let (_, text) = sources
            .iter_mut()
            .find(|(name, _)| name == file)
            .unwrap_or_else(|| panic!("no {file} in {}", self.rel));
        assert!(
            text.contains(from),
            "{file} no longer contains {from:?}; update this test"
        );
        *text = text.replacen(from, to, 1);
        Module::from_sources(&self.rel, self.dir.clone(), sources).expect("edited module parses")
    }

    fn blocks(&self) -> impl Iterator<Item = &Block> {
        self.bodies.iter().flat_map(|b| b.blocks())
    }

    fn labelled(&self, kind: &str, ty: &str) -> Vec<(&str, &Block)> {
        self.blocks()
            .filter(|b| b.identifier() == kind && label(b, 0) == Some(ty))
            .map(|b| (label(b, 1).unwrap_or(""), b))
            .collect()
    }

    fn resources(&self, ty: &str) -> Vec<(&str, &Block)> {
        self.labelled("resource", ty)
    }

    fn data_sources(&self, ty: &str) -> Vec<(&str, &Block)> {
        self.labelled("data", ty)
    }

    fn variable(&self, name: &str) -> Option<&Block> {
        self.blocks()
            .find(|b| b.identifier() == "variable" && label(b, 0) == Some(name))
    }

    fn locals(&self) -> Vec<&Attribute> {
        self.blocks()
            .filter(|b| b.identifier() == "locals")
            .flat_map(|b| b.body().attributes())
            .collect()
    }

    fn local(&self, name: &str) -> Option<&Expression> {
        self.locals()
            .into_iter()
            .find(|a| a.key() == name)
            .map(Attribute::expr)
    }
}

fn label(block: &Block, i: usize) -> Option<&str> {
    block.labels().get(i).map(|l| l.as_str())
}

fn attr<'a>(body: &'a Body, key: &str) -> Option<&'a Expression> {
    body.attributes()
        .find(|a| a.key() == key)
        .map(Attribute::expr)
}

fn child<'a>(body: &'a Body, ident: &str) -> Option<&'a Block> {
    body.blocks().find(|b| b.identifier() == ident)
}

fn children<'a>(body: &'a Body, ident: &str) -> Vec<&'a Block> {
    body.blocks().filter(|b| b.identifier() == ident).collect()
}

/// An expression as HCL text, e.g. `aws_kms_key.main.arn`.
fn text(expr: &Expression) -> String {
    hcl::format::to_string(expr).expect("format expression")
}

/// Text without whitespace, to compare expressions independent of layout.
fn squash(text: &str) -> String {
    text.split_whitespace().collect()
}

fn attr_text(body: &Body, key: &str) -> Option<String> {
    attr(body, key).map(text)
}

fn literal(expr: &Expression) -> Option<&str> {
    match expr {
        Expression::String(s) => Some(s),
        Expression::TemplateExpr(t) => match t.as_ref() {
            TemplateExpr::QuotedString(s) if !s.contains("${") => Some(s),
            _ => None,
        },
        _ => None,
    }
}

fn template_text(t: &TemplateExpr) -> &str {
    match t {
        TemplateExpr::QuotedString(s) => s,
        TemplateExpr::Heredoc(h) => &h.template,
    }
}

fn bool_attr(body: &Body, key: &str) -> Option<bool> {
    match attr(body, key) {
        Some(Expression::Bool(b)) => Some(*b),
        _ => None,
    }
}

fn number_attr(body: &Body, key: &str) -> Option<u64> {
    match attr(body, key) {
        Some(Expression::Number(n)) => n.as_u64(),
        _ => None,
    }
}

fn string_attr<'a>(body: &'a Body, key: &str) -> Option<&'a str> {
    attr(body, key).and_then(literal)
}

/// Every string in an expression (literals and the raw text of templates), recursively.
fn strings_in(expr: &Expression, out: &mut Vec<String>) {
    match expr {
        Expression::String(s) => out.push(s.clone()),
        Expression::TemplateExpr(t) => out.push(template_text(t).to_string()),
        Expression::Array(items) => items.iter().for_each(|e| strings_in(e, out)),
        Expression::Object(object) => {
            for (k, v) in object {
                if let ObjectKey::Expression(k) = k {
                    strings_in(k, out);
                }
                strings_in(v, out);
            }
        }
        Expression::Traversal(t) => {
            strings_in(&t.expr, out);
            for op in &t.operators {
                if let TraversalOperator::Index(e) = op {
                    strings_in(e, out);
                }
            }
        }
        Expression::FuncCall(f) => f.args.iter().for_each(|e| strings_in(e, out)),
        Expression::Parenthesis(e) => strings_in(e, out),
        Expression::Conditional(c) => {
            strings_in(&c.cond_expr, out);
            strings_in(&c.true_expr, out);
            strings_in(&c.false_expr, out);
        }
        Expression::Operation(op) => match op.as_ref() {
            hcl::expr::Operation::Unary(u) => strings_in(&u.expr, out),
            hcl::expr::Operation::Binary(b) => {
                strings_in(&b.lhs_expr, out);
                strings_in(&b.rhs_expr, out);
            }
        },
        Expression::ForExpr(f) => {
            strings_in(&f.collection_expr, out);
            if let Some(k) = &f.key_expr {
                strings_in(k, out);
            }
            strings_in(&f.value_expr, out);
            if let Some(c) = &f.cond_expr {
                strings_in(c, out);
            }
        }
        _ => {}
    }
}

/// Every attribute expression of a body and its nested blocks.
fn all_exprs<'a>(body: &'a Body, out: &mut Vec<&'a Expression>) {
    for a in body.attributes() {
        out.push(a.expr());
    }
    for b in body.blocks() {
        all_exprs(b.body(), out);
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluation (the pure parts: locals built from literals and functions/schedules.json)

fn file_fn(args: FuncArgs) -> Result<Value, String> {
    let path = args[0].as_str().ok_or("file() needs a path")?;
    std::fs::read_to_string(path)
        .map(Value::from)
        .map_err(|e| format!("file({path}): {e}"))
}

fn jsondecode_fn(args: FuncArgs) -> Result<Value, String> {
    let text = args[0].as_str().ok_or("jsondecode() needs a string")?;
    let json: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    hcl::to_value(json).map_err(|e| e.to_string())
}

fn jsonencode_fn(args: FuncArgs) -> Result<Value, String> {
    serde_json::to_string(&args[0])
        .map(Value::from)
        .map_err(|e| e.to_string())
}

fn lookup_fn(args: FuncArgs) -> Result<Value, String> {
    let map = args[0].as_object().ok_or("lookup() needs a map")?;
    let key = args[1].as_str().ok_or("lookup() needs a string key")?;
    Ok(map.get(key).cloned().unwrap_or_else(|| args[2].clone()))
}

fn coalesce_fn(args: FuncArgs) -> Result<Value, String> {
    args.iter()
        .find(|v| !v.is_null())
        .cloned()
        .ok_or_else(|| "coalesce(): every argument is null".to_string())
}

fn merge_fn(args: FuncArgs) -> Result<Value, String> {
    let mut merged = Map::new();
    for arg in args.iter() {
        let object = arg
            .as_object()
            .ok_or_else(|| format!("merge: {arg:?} is not an object"))?;
        merged.extend(object.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    Ok(Value::Object(merged))
}

fn keys_fn(args: FuncArgs) -> Result<Value, String> {
    let map = args[0].as_object().ok_or("keys() needs a map")?;
    Ok(Value::Array(
        map.keys().map(|k| Value::from(k.as_str())).collect(),
    ))
}

fn object(pairs: impl IntoIterator<Item = (String, Value)>) -> Value {
    Value::Object(pairs.into_iter().collect::<Map<String, Value>>())
}

/// `path`, `var` (the variables' defaults) and the Terraform functions the locals use.
fn base_context(module: &Module) -> Context<'static> {
    let mut ctx = Context::new();
    let dir = module.dir.to_string_lossy().to_string();
    ctx.declare_var(
        "path",
        object([
            ("module".to_string(), Value::from(dir.clone())),
            ("root".to_string(), Value::from(dir)),
        ]),
    );
    let plain = Context::new();
    let defaults = module
        .blocks()
        .filter(|b| b.identifier() == "variable")
        .filter_map(|b| {
            let default = attr(b.body(), "default")?.evaluate(&plain).ok()?;
            Some((label(b, 0)?.to_string(), default))
        });
    ctx.declare_var("var", object(defaults));
    let one = |p| FuncDef::builder().param(p);
    ctx.declare_func("file", one(ParamType::String).build(file_fn));
    ctx.declare_func("jsondecode", one(ParamType::String).build(jsondecode_fn));
    ctx.declare_func("jsonencode", one(ParamType::Any).build(jsonencode_fn));
    ctx.declare_func("keys", one(ParamType::Any).build(keys_fn));
    ctx.declare_func(
        "merge",
        FuncDef::builder()
            .variadic_param(ParamType::Any)
            .build(merge_fn),
    );
    ctx.declare_func(
        "lookup",
        FuncDef::builder()
            .params([ParamType::Any, ParamType::String, ParamType::Any])
            .build(lookup_fn),
    );
    ctx.declare_func(
        "coalesce",
        FuncDef::builder()
            .variadic_param(ParamType::Any)
            .build(coalesce_fn),
    );
    ctx
}

/// Every local that can be computed without provider data (the others are left out).
fn evaluated_locals(module: &Module) -> Map<String, Value> {
    let base = base_context(module);
    let mut known: Map<String, Value> = Map::new();
    loop {
        let mut progress = false;
        for local in module.locals() {
            if known.contains_key(local.key()) {
                continue;
            }
            let mut ctx = base.clone();
            ctx.declare_var("local", Value::Object(known.clone()));
            if let Ok(value) = local.expr().evaluate(&ctx) {
                known.insert(local.key().to_string(), value);
                progress = true;
            }
        }
        if !progress {
            return known;
        }
    }
}

/// The context a `for_each` instance is evaluated in: locals plus `each`.
fn each_context(
    base: &Context<'static>,
    locals: &Map<String, Value>,
    key: &str,
    value: &Value,
) -> Context<'static> {
    let mut ctx = base.clone();
    ctx.declare_var("local", Value::Object(locals.clone()));
    ctx.declare_var(
        "each",
        object([
            ("key".to_string(), Value::from(key)),
            ("value".to_string(), value.clone()),
        ]),
    );
    ctx
}

fn eval_str(expr: &Expression, ctx: &Context) -> Result<String, String> {
    match expr.evaluate(ctx) {
        Ok(Value::String(s)) => Ok(s),
        Ok(other) => Err(format!("{} is {other:?}, not a string", text(expr))),
        Err(e) => Err(format!("{}: {e}", text(expr))),
    }
}

fn eval_u64(expr: &Expression, ctx: &Context) -> Result<u64, String> {
    match expr.evaluate(ctx) {
        Ok(v) => v
            .as_u64()
            .ok_or_else(|| format!("{} is {v:?}, not a number", text(expr))),
        Err(e) => Err(format!("{}: {e}", text(expr))),
    }
}

/// Lexical normalisation (`a/b/../c` → `a/c`), for paths that need not exist.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// 0. Every file parses, and the tree has the modules and environments it should

fn all_modules() -> Vec<Module> {
    let mut rels = vec!["modules/aws".to_string(), "modules/cloudflare".to_string()];
    rels.extend(ENVS.iter().map(|e| format!("envs/{e}")));
    rels.iter().map(|r| Module::load(r)).collect()
}

fn tf_files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .to_string();
        if path.is_dir() && !name.starts_with('.') {
            tf_files_under(&path, out);
        } else if name.ends_with(".tf") {
            out.push(path);
        }
    }
}

#[test]
fn every_terraform_file_parses_and_belongs_to_a_checked_module() {
    let modules = all_modules();
    let checked: usize = modules.iter().map(|m| m.sources.len()).sum();
    let mut on_disk = Vec::new();
    tf_files_under(&repo().join("terraform"), &mut on_disk);
    for path in &on_disk {
        let text = std::fs::read_to_string(path).expect("read");
        hcl::parse(&text).unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
    }
    assert_eq!(
        checked,
        on_disk.len(),
        "every .tf file must live in a module these tests check"
    );
    assert!(checked >= 20, "only {checked} .tf files");
}

fn is_values_or_state(name: &str) -> bool {
    name.ends_with(".tfvars")
        || name.ends_with(".tfvars.json")
        || name.contains(".tfstate")
        || name.ends_with(".tfplan")
}

/// Files under terraform/ that would be committed: tracked, or untracked and not ignored. A local
/// plan or `.terraform` cache (ignored by terraform/.gitignore) does not count; without git, every
/// file does.
fn committable_terraform_files() -> Vec<String> {
    let git = std::process::Command::new("git")
        .args([
            "ls-files",
            "--cached",
            "--others",
            "--exclude-standard",
            "--",
            "terraform",
        ])
        .current_dir(repo())
        .output();
    if let Ok(out) = git
        && out.status.success()
    {
        return String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(String::from)
            .collect();
    }
    fn walk(dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path.display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(&repo().join("terraform"), &mut out);
    out
}

#[test]
fn no_state_or_variable_values_are_committed() {
    let files = committable_terraform_files();
    assert!(
        files.iter().any(|f| f.ends_with(".tf")),
        "no .tf files found under terraform/: {files:?}"
    );
    let found: Vec<&String> = files
        .iter()
        .filter(|f| is_values_or_state(f.rsplit('/').next().unwrap_or(f)))
        .collect();
    assert!(
        found.is_empty(),
        "values and state come from CI, never from files: {found:?}"
    );
    // The ignore file keeps local plans, state and values out of commits.
    let ignore = std::fs::read_to_string(repo().join("terraform/.gitignore")).expect(".gitignore");
    for pattern in [".terraform/", "*.tfstate", "*.tfplan", "*.tfvars"] {
        assert!(
            ignore.lines().any(|l| l == pattern),
            "terraform/.gitignore lacks {pattern}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 1. EU only

fn eu_regions() -> BTreeSet<String> {
    functions::lambda::EU_REGIONS
        .iter()
        .map(|r| r.to_string())
        .collect()
}

/// Region codes in a text (`us-east-1`, `eu-west-2`, `us-gov-west-1`, ...) that are not in the EU.
fn non_eu_regions(text: &str) -> Vec<String> {
    const PREFIXES: [&str; 12] = [
        "af", "ap", "ca", "cn", "eu", "il", "me", "mx", "sa", "us", "us-gov", "us-iso",
    ];
    const DIRECTIONS: [&str; 9] = [
        "north",
        "south",
        "east",
        "west",
        "central",
        "northeast",
        "northwest",
        "southeast",
        "southwest",
    ];
    let eu = eu_regions();
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .flat_map(|token| {
            // A region may sit inside a longer hyphenated word: try every window of parts.
            let parts: Vec<&str> = token.split('-').collect();
            let mut found = Vec::new();
            for start in 0..parts.len() {
                for len in [3, 4] {
                    let Some(window) = parts.get(start..start + len) else {
                        continue;
                    };
                    let (last, rest) = window.split_last().expect("non-empty");
                    let (direction, prefix) = rest.split_last().expect("non-empty");
                    if last.parse::<u8>().is_ok()
                        && DIRECTIONS.contains(direction)
                        && PREFIXES.contains(&prefix.join("-").as_str())
                    {
                        let region = window.join("-");
                        if !eu.contains(&region) {
                            found.push(region);
                        }
                    }
                }
            }
            found
        })
        .collect()
}

/// Problems with a module's `region` variable, providers and region strings.
fn region_problems(module: &Module) -> Vec<String> {
    let mut problems = Vec::new();
    let at = &module.rel;
    if let Some(variable) = module.variable("region") {
        let body = variable.body();
        if string_attr(body, "default") != Some("eu-central-1") {
            problems.push(format!(
                "{at}: variable region must default to eu-central-1"
            ));
        }
        match child(body, "validation").and_then(|v| attr(v.body(), "condition")) {
            Some(condition) => {
                let mut listed = Vec::new();
                strings_in(condition, &mut listed);
                let listed: BTreeSet<String> = listed.into_iter().collect();
                if listed != eu_regions() {
                    problems.push(format!(
                        "{at}: region validation lists {listed:?}, not exactly the EU regions {:?}",
                        eu_regions()
                    ));
                }
                if !text(condition).contains("var.region") {
                    problems.push(format!("{at}: region validation does not test var.region"));
                }
            }
            None => problems.push(format!("{at}: variable region has no validation")),
        }
    }
    for provider in module
        .blocks()
        .filter(|b| b.identifier() == "provider" && label(b, 0) == Some("aws"))
    {
        if attr_text(provider.body(), "region").as_deref() != Some("var.region") {
            problems.push(format!("{at}: provider aws must use region = var.region"));
        }
    }
    for body in &module.bodies {
        let mut exprs = Vec::new();
        all_exprs(body, &mut exprs);
        let mut strings = Vec::new();
        for e in exprs {
            strings_in(e, &mut strings);
        }
        for s in strings {
            for region in non_eu_regions(&s) {
                problems.push(format!(
                    "{at}: names {region}, which is outside the EU: {s:?}"
                ));
            }
        }
    }
    problems
}

#[test]
fn the_region_is_pinned_to_the_eu_everywhere() {
    let modules = all_modules();
    let mut problems: Vec<String> = modules.iter().flat_map(region_problems).collect();
    for m in &modules {
        let needs_region = m.rel == "modules/aws" || m.rel.starts_with("envs/");
        if needs_region && m.variable("region").is_none() {
            problems.push(format!("{}: no region variable", m.rel));
        }
        if m.rel.starts_with("envs/") {
            let aws_module = m
                .blocks()
                .find(|b| b.identifier() == "module" && label(b, 0) == Some("aws"));
            match aws_module {
                Some(b) if attr_text(b.body(), "region").as_deref() == Some("var.region") => {}
                _ => problems.push(format!(
                    "{}: module aws must get region = var.region",
                    m.rel
                )),
            }
            if !m
                .blocks()
                .any(|b| b.identifier() == "provider" && label(b, 0) == Some("aws"))
            {
                problems.push(format!("{}: no aws provider", m.rel));
            }
        }
    }
    // The functions get the same list (REGROOTER_ALLOWED_REGIONS) and refuse to start elsewhere.
    let aws = Module::load("modules/aws");
    let locals = evaluated_locals(&aws);
    let listed: Option<BTreeSet<String>> = locals.get("eu_regions").and_then(|v| {
        v.as_array().map(|a| {
            a.iter()
                .filter_map(|r| r.as_str().map(String::from))
                .collect()
        })
    });
    if listed != Some(eu_regions()) {
        problems.push(format!(
            "local.eu_regions is {listed:?}, not {:?}",
            eu_regions()
        ));
    }
    let environment = match aws.local("function_environment") {
        Some(Expression::Object(o)) => o,
        _ => panic!("local.function_environment is not an object"),
    };
    let allowed = environment
        .iter()
        .find(|(k, _)| object_key(k) == "REGROOTER_ALLOWED_REGIONS")
        .map(|(_, v)| text(v));
    if allowed.as_deref() != Some("join(\",\", local.eu_regions)") {
        problems.push(format!(
            "REGROOTER_ALLOWED_REGIONS must be join(\",\", local.eu_regions), is {allowed:?}"
        ));
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_region_check_catches_regions_outside_the_eu() {
    assert_eq!(
        non_eu_regions("eu-central-1 and eu-west-1"),
        Vec::<String>::new()
    );
    assert_eq!(non_eu_regions("arn:aws:s3:us-east-1:1:x"), ["us-east-1"]);
    assert_eq!(non_eu_regions("x-eu-west-2-y"), ["eu-west-2"]);
    assert_eq!(non_eu_regions("us-gov-west-1"), ["us-gov-west-1"]);
    assert_eq!(non_eu_regions("eu-central-2"), ["eu-central-2"]);

    let london_allowed = Module::snippet(
        r#"
variable "region" {
  default = "eu-central-1"
  validation {
    condition     = contains(["eu-central-1", "eu-west-2"], var.region)
    error_message = "EU only."
  }
}
provider "aws" {
  region = "eu-central-1"
}
resource "aws_s3_bucket" "x" {
  bucket = "logs-us-east-1"
}
"#,
    );
    let problems = region_problems(&london_allowed).join("\n");
    assert!(problems.contains("region validation lists"), "{problems}");
    assert!(problems.contains("provider aws must use"), "{problems}");
    assert!(problems.contains("names eu-west-2"), "{problems}");
    assert!(problems.contains("names us-east-1"), "{problems}");

    let real = Module::load("modules/aws");
    let moved = real.with_edit(
        "variables.tf",
        "default     = \"eu-central-1\"",
        "default     = \"us-east-1\"",
    );
    assert!(!region_problems(&moved).is_empty());
}

fn object_key(key: &ObjectKey) -> String {
    match key {
        ObjectKey::Identifier(i) => i.as_str().to_string(),
        ObjectKey::Expression(e) => literal(e).map_or_else(|| text(e), String::from),
        other => hcl::format::to_string(other).expect("format key"),
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Tables: CMK, 7-day point-in-time recovery, deletion protection

/// Problems with every `aws_dynamodb_table` of a module.
fn table_problems(module: &Module) -> Vec<String> {
    let days = backup_days();
    let rotating_keys: BTreeSet<String> = module
        .resources("aws_kms_key")
        .into_iter()
        .filter(|(_, b)| bool_attr(b.body(), "enable_key_rotation") == Some(true))
        .map(|(name, _)| format!("aws_kms_key.{name}.arn"))
        .collect();
    let mut problems = Vec::new();
    let tables = module.resources("aws_dynamodb_table");
    if tables.is_empty() {
        problems.push(format!("{}: no aws_dynamodb_table", module.rel));
    }
    for (name, table) in tables {
        let body = table.body();
        let at = format!("aws_dynamodb_table.{name}");
        match child(body, "server_side_encryption") {
            Some(sse) => {
                if bool_attr(sse.body(), "enabled") != Some(true) {
                    problems.push(format!("{at}: server-side encryption not enabled"));
                }
                let key = attr_text(sse.body(), "kms_key_arn").unwrap_or_default();
                if !rotating_keys.contains(&key) {
                    problems.push(format!(
                        "{at}: encrypted with {key:?}, not a customer-managed key with rotation"
                    ));
                }
            }
            None => problems.push(format!("{at}: no server_side_encryption with the CMK")),
        }
        match child(body, "point_in_time_recovery") {
            Some(pitr) => {
                if bool_attr(pitr.body(), "enabled") != Some(true) {
                    problems.push(format!("{at}: point-in-time recovery not enabled"));
                }
                let period = number_attr(pitr.body(), "recovery_period_in_days");
                if period != Some(days) {
                    problems.push(format!(
                        "{at}: recovery_period_in_days is {period:?}, the page promises {days}"
                    ));
                }
            }
            None => problems.push(format!("{at}: no point_in_time_recovery")),
        }
        if bool_attr(body, "deletion_protection_enabled") != Some(true) {
            problems.push(format!("{at}: deletion protection off"));
        }
        let ttl = child(body, "ttl");
        if ttl.and_then(|t| string_attr(t.body(), "attribute_name")) != Some("expires_at")
            || ttl.and_then(|t| bool_attr(t.body(), "enabled")) != Some(true)
        {
            problems.push(format!("{at}: TTL on expires_at not enabled"));
        }
        if string_attr(body, "billing_mode") != Some("PAY_PER_REQUEST")
            || string_attr(body, "hash_key") != Some("pk")
            || string_attr(body, "range_key") != Some("sk")
        {
            problems.push(format!(
                "{at}: not the on-demand pk/sk table of ARCHITECTURE.md"
            ));
        }
        let gsi = children(body, "global_secondary_index");
        let gsi1 = gsi
            .iter()
            .find(|g| string_attr(g.body(), "name") == Some("gsi1"));
        if gsi.len() != 1
            || gsi1.is_none_or(|g| {
                string_attr(g.body(), "hash_key") != Some("gsi1pk")
                    || string_attr(g.body(), "range_key") != Some("gsi1sk")
                    || string_attr(g.body(), "projection_type") != Some("ALL")
            })
        {
            problems.push(format!("{at}: needs exactly gsi1 (gsi1pk/gsi1sk, ALL)"));
        }
    }
    problems
}

#[test]
fn every_table_is_encrypted_with_the_cmk_and_keeps_7_days_of_recovery() {
    let aws = Module::load("modules/aws");
    let problems = table_problems(&aws);
    assert!(problems.is_empty(), "{problems:#?}");
    for m in all_modules() {
        if m.rel != "modules/aws" {
            assert!(
                m.resources("aws_dynamodb_table").is_empty(),
                "{}: tables belong in modules/aws",
                m.rel
            );
        }
    }
}

#[test]
fn the_table_check_catches_missing_recovery_and_other_keys() {
    let aws = Module::load("modules/aws");
    let no_pitr = aws.with_edit(
        "dynamodb.tf",
        "point_in_time_recovery {\n    enabled                 = true\n    recovery_period_in_days = 7\n  }",
        "",
    );
    assert!(
        table_problems(&no_pitr)
            .iter()
            .any(|p| p.contains("no point_in_time_recovery"))
    );
    let short = aws.with_edit(
        "dynamodb.tf",
        "recovery_period_in_days = 7",
        "recovery_period_in_days = 35",
    );
    assert!(
        table_problems(&short)
            .iter()
            .any(|p| p.contains("recovery_period_in_days is Some(35)"))
    );
    let aws_owned = aws.with_edit(
        "dynamodb.tf",
        "kms_key_arn = aws_kms_key.main.arn",
        "kms_key_arn = null",
    );
    assert!(!table_problems(&aws_owned).is_empty());
    let unprotected = aws.with_edit(
        "dynamodb.tf",
        "deletion_protection_enabled = true",
        "deletion_protection_enabled = false",
    );
    assert!(!table_problems(&unprotected).is_empty());
}

// ---------------------------------------------------------------------------------------------
// 3. IAM: no `*`

/// A string that can flow into a policy: a literal, or the raw text of a template.
enum Lit {
    Plain(String),
    Template(String),
}

/// Every string that can end up in `expr`'s value, following `local.*` references into their
/// definitions (so `actions = local.x` is checked where `x` is written).
fn literals(module: &Module, expr: &Expression, depth: usize, out: &mut Vec<Lit>) {
    assert!(depth < 16, "locals nest too deep (a cycle?)");
    match expr {
        Expression::String(s) => out.push(Lit::Plain(s.clone())),
        Expression::TemplateExpr(t) => {
            let raw = template_text(t);
            if raw.contains("${") || raw.contains("%{") {
                out.push(Lit::Template(raw.to_string()));
            } else {
                out.push(Lit::Plain(raw.to_string()));
            }
        }
        Expression::Array(items) => items.iter().for_each(|e| literals(module, e, depth, out)),
        Expression::Object(o) => o.values().for_each(|e| literals(module, e, depth, out)),
        Expression::Traversal(t) => {
            if let (Expression::Variable(v), Some(TraversalOperator::GetAttr(name))) =
                (&t.expr, t.operators.first())
                && v.as_str() == "local"
                && let Some(defined) = module.local(name.as_str())
            {
                literals(module, defined, depth + 1, out);
            }
        }
        Expression::FuncCall(f) => f.args.iter().for_each(|e| literals(module, e, depth, out)),
        Expression::Parenthesis(e) => literals(module, e, depth, out),
        Expression::Conditional(c) => {
            literals(module, &c.true_expr, depth, out);
            literals(module, &c.false_expr, depth, out);
        }
        Expression::ForExpr(f) => {
            literals(module, &f.collection_expr, depth, out);
            literals(module, &f.value_expr, depth, out);
        }
        _ => {}
    }
}

/// A resource pattern may end in `*` only after an interpolation of one specific resource's
/// attribute, e.g. `"${aws_cloudwatch_log_group.x.arn}:log-stream:*"` (the streams of that group).
fn scoped_wildcard(template: &str) -> bool {
    let Some(rest) = template.strip_prefix("${") else {
        return false;
    };
    let Some(end) = rest.find('}') else {
        return false;
    };
    let reference = &rest[..end];
    (reference.starts_with("aws_") || reference.starts_with("data.aws_"))
        && !reference.contains('*')
        && !rest[end + 1..].contains("${")
}

struct IamCheck {
    statements: usize,
    findings: Vec<String>,
}

impl IamCheck {
    fn actions(&mut self, at: &str, module: &Module, expr: &Expression) {
        let mut lits = Vec::new();
        literals(module, expr, 0, &mut lits);
        for lit in lits {
            let (Lit::Plain(s) | Lit::Template(s)) = lit;
            if s.contains('*') {
                self.findings
                    .push(format!("{at}: action {s:?} has a wildcard"));
            }
        }
    }

    fn resources(&mut self, at: &str, module: &Module, expr: &Expression, key_policy: bool) {
        let mut lits = Vec::new();
        literals(module, expr, 0, &mut lits);
        for lit in lits {
            match lit {
                Lit::Plain(s) if key_policy && s == "*" => {}
                Lit::Plain(s) if s.contains('*') => {
                    self.findings
                        .push(format!("{at}: resource {s:?} has a wildcard"));
                }
                Lit::Template(s) if s.contains('*') && !scoped_wildcard(&s) => {
                    self.findings
                        .push(format!("{at}: resource {s:?} has an unscoped wildcard"));
                }
                _ => {}
            }
        }
    }

    fn principals(&mut self, at: &str, module: &Module, expr: &Expression) {
        let mut lits = Vec::new();
        literals(module, expr, 0, &mut lits);
        for lit in lits {
            if let Lit::Plain(s) = lit
                && s == "*"
            {
                self.findings.push(format!("{at}: principal \"*\""));
            }
        }
    }

    /// `statement` blocks of an `aws_iam_policy_document`, including `dynamic "statement"`.
    fn document(&mut self, name: &str, module: &Module, body: &Body, key_policy: bool) {
        let mut statements: Vec<&Body> = children(body, "statement")
            .into_iter()
            .map(Block::body)
            .collect();
        for dynamic in children(body, "dynamic") {
            if label(dynamic, 0) == Some("statement")
                && let Some(content) = child(dynamic.body(), "content")
            {
                statements.push(content.body());
            }
        }
        for (i, statement) in statements.into_iter().enumerate() {
            self.statements += 1;
            let at = format!("data.aws_iam_policy_document.{name} statement {i}");
            for key in ["actions", "not_actions"] {
                if let Some(e) = attr(statement, key) {
                    self.actions(&at, module, e);
                }
            }
            for key in ["resources", "not_resources"] {
                if let Some(e) = attr(statement, key) {
                    self.resources(&at, module, e, key_policy);
                }
            }
            for p in children(statement, "principals")
                .into_iter()
                .chain(children(statement, "not_principals"))
            {
                if let Some(e) = attr(p.body(), "identifiers") {
                    self.principals(&at, module, e);
                }
            }
        }
    }

    /// A policy written as `jsonencode({...})`: its Action/Resource/Principal entries.
    fn inline(&mut self, at: &str, module: &Module, expr: &Expression) {
        match expr {
            Expression::Object(o) => {
                for (k, v) in o {
                    match object_key(k).as_str() {
                        "Action" | "NotAction" => self.actions(at, module, v),
                        "Resource" | "NotResource" => self.resources(at, module, v, false),
                        "Principal" | "NotPrincipal" => self.principals(at, module, v),
                        "Statement" => {
                            let n = match v {
                                Expression::Array(a) => a.len(),
                                _ => 1,
                            };
                            self.statements += n;
                            self.inline(at, module, v);
                        }
                        _ => self.inline(at, module, v),
                    }
                }
            }
            Expression::Array(items) => items.iter().for_each(|e| self.inline(at, module, e)),
            Expression::FuncCall(f) => f.args.iter().for_each(|e| self.inline(at, module, e)),
            Expression::Parenthesis(e) => self.inline(at, module, e),
            _ => {}
        }
    }

    /// A policy written as a JSON string.
    fn json(&mut self, at: &str, value: &serde_json::Value) {
        match value {
            serde_json::Value::Object(o) => {
                for (k, v) in o {
                    let strings: Vec<&str> = match v {
                        serde_json::Value::String(s) => vec![s],
                        serde_json::Value::Array(a) => {
                            a.iter().filter_map(|x| x.as_str()).collect()
                        }
                        _ => vec![],
                    };
                    match k.as_str() {
                        "Action" | "NotAction" => {
                            for s in strings.iter().filter(|s| s.contains('*')) {
                                self.findings
                                    .push(format!("{at}: action {s:?} has a wildcard"));
                            }
                        }
                        "Resource" | "NotResource" => {
                            for s in strings.iter().filter(|s| s.contains('*')) {
                                self.findings
                                    .push(format!("{at}: resource {s:?} has a wildcard"));
                            }
                        }
                        "Statement" => {
                            self.statements += v.as_array().map_or(1, Vec::len);
                            self.json(at, v);
                        }
                        _ => self.json(at, v),
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| self.json(at, x)),
            _ => {}
        }
    }
}

/// The rule, precisely. In every module:
/// - every statement of every `data "aws_iam_policy_document"` (`statement` and
///   `dynamic "statement"` blocks): no `actions`/`not_actions` string containing `*`; no
///   `resources`/`not_resources` string containing `*`, except (a) after a leading interpolation of
///   one specific resource's attribute (`"${aws_cloudwatch_log_group.x.arn}:log-stream:*"`), and
///   (b) in a KMS key policy (a document used as the `policy` of an `aws_kms_key`/`aws_kms_key_policy`)
///   exactly `"*"`, which there means "this key"; no principal `"*"`;
/// - every `policy`/`assume_role_policy` written inline with `jsonencode(...)` or as a JSON string:
///   the same rules for Action/NotAction, Resource/NotResource and Principal;
/// - locals referenced from any of these are followed to where they are written;
/// - managed policy attachments only of [`ALLOWED_MANAGED_POLICIES`], and no `managed_policy_arns`.
///
/// Resource policies of function URLs (`aws_lambda_permission` with principal `*`) are not IAM
/// statements written here; [`lambda_problems`] limits them to function URLs.
fn iam_findings(module: &Module) -> IamCheck {
    let mut check = IamCheck {
        statements: 0,
        findings: Vec::new(),
    };
    let key_policies: BTreeSet<String> = module
        .resources("aws_kms_key")
        .into_iter()
        .chain(module.resources("aws_kms_key_policy"))
        .filter_map(|(_, b)| attr_text(b.body(), "policy"))
        .filter_map(|t| {
            t.strip_prefix("data.aws_iam_policy_document.")
                .and_then(|r| r.strip_suffix(".json"))
                .map(String::from)
        })
        .collect();
    for (name, doc) in module.data_sources("aws_iam_policy_document") {
        check.document(name, module, doc.body(), key_policies.contains(name));
    }
    for block in module.blocks().filter(|b| b.identifier() == "resource") {
        let at = format!(
            "{}.{}",
            label(block, 0).unwrap_or(""),
            label(block, 1).unwrap_or("")
        );
        let mut nested = vec![block.body()];
        while let Some(body) = nested.pop() {
            nested.extend(body.blocks().map(Block::body));
            for key in ["policy", "assume_role_policy"] {
                match attr(body, key) {
                    Some(Expression::FuncCall(f)) if f.name.name.as_str() == "jsonencode" => {
                        check.inline(&at, module, &Expression::FuncCall(f.clone()));
                    }
                    Some(e) => {
                        if let Some(json) = literal(e)
                            .or_else(|| match e {
                                Expression::TemplateExpr(t) => Some(template_text(t)),
                                _ => None,
                            })
                            .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
                        {
                            check.json(&at, &json);
                        }
                    }
                    None => {}
                }
            }
        }
        if attr(block.body(), "managed_policy_arns").is_some() {
            check.findings.push(format!(
                "{at}: managed_policy_arns (attach allowed policies explicitly)"
            ));
        }
    }
    let attachment_types = [
        "aws_iam_role_policy_attachment",
        "aws_iam_policy_attachment",
        "aws_iam_user_policy_attachment",
        "aws_iam_group_policy_attachment",
    ];
    for ty in attachment_types {
        for (name, block) in module.resources(ty) {
            let at = format!("{ty}.{name}");
            if ty != "aws_iam_role_policy_attachment" {
                check
                    .findings
                    .push(format!("{at}: only roles get policies"));
                continue;
            }
            let arn = attr(block.body(), "policy_arn").map(|e| {
                let mut s = Vec::new();
                strings_in(e, &mut s);
                s.join("")
            });
            let arn = arn.unwrap_or_default();
            let names: Vec<String> = if arn.ends_with("${each.value}") {
                let mut s = Vec::new();
                if let Some(e) = attr(block.body(), "for_each") {
                    strings_in(e, &mut s);
                }
                s
            } else {
                vec![arn.rsplit('/').next().unwrap_or_default().to_string()]
            };
            if !arn.contains(":iam::aws:policy/") || names.is_empty() {
                check.findings.push(format!(
                    "{at}: {arn:?} is not an allowed AWS-managed policy"
                ));
            }
            for n in names {
                if !ALLOWED_MANAGED_POLICIES.contains(&n.as_str()) {
                    check
                        .findings
                        .push(format!("{at}: managed policy {n:?} is not allowed"));
                }
            }
        }
    }
    check
}

#[test]
fn no_iam_policy_has_a_wildcard_action_or_resource() {
    let mut statements = 0;
    let mut findings = Vec::new();
    for m in all_modules() {
        let check = iam_findings(&m);
        statements += check.statements;
        findings.extend(
            check
                .findings
                .into_iter()
                .map(|f| format!("{}: {f}", m.rel)),
        );
    }
    assert!(findings.is_empty(), "{findings:#?}");
    // modules/aws writes 22 statements (the function role policy alone has 7); fewer means the
    // check stopped seeing some of them.
    assert!(statements >= 20, "only {statements} statements checked");
}

#[test]
fn the_wildcard_check_catches_planted_wildcards() {
    let planted = Module::snippet(
        r#"
locals {
  read_actions = ["dynamodb:GetItem", "dynamodb:*"]
  prefix       = "arn:aws:dynamodb"
}
data "aws_iam_policy_document" "actions" {
  statement {
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.x.arn]
  }
}
data "aws_iam_policy_document" "resources" {
  statement {
    actions   = ["s3:GetObject"]
    resources = ["*"]
  }
  statement {
    actions   = ["dynamodb:Query"]
    resources = ["${local.prefix}:*:*:table/*"]
  }
}
data "aws_iam_policy_document" "through_locals" {
  dynamic "statement" {
    for_each = toset(["a"])
    content {
      actions   = local.read_actions
      resources = [aws_dynamodb_table.main.arn]
    }
  }
}
data "aws_iam_policy_document" "principal" {
  statement {
    actions   = ["sts:AssumeRole"]
    resources = [aws_iam_role.x.arn]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
  }
}
data "aws_iam_policy_document" "fine" {
  statement {
    actions   = ["logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.x.arn}:log-stream:*"]
  }
}
resource "aws_iam_role_policy" "inline" {
  role = aws_iam_role.x.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = "*"
      Resource = "arn:aws:sqs:eu-central-1:123456789012:q"
    }]
  })
}
resource "aws_iam_policy" "json" {
  policy = <<-EOT
    {"Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}
  EOT
}
resource "aws_iam_role_policy_attachment" "admin" {
  role       = aws_iam_role.x.name
  policy_arn = "arn:aws:iam::aws:policy/AdministratorAccess"
}
"#,
    );
    let findings = iam_findings(&planted).findings.join("\n");
    for expected in [
        "actions statement 0: action \"s3:*\"",
        "resources statement 0: resource \"*\"",
        "resources statement 1: resource \"${local.prefix}:*:*:table/*\" has an unscoped wildcard",
        "through_locals statement 0: action \"dynamodb:*\"",
        "principal statement 0: principal \"*\"",
        "aws_iam_role_policy.inline: action \"*\"",
        "aws_iam_policy.json: resource \"*\"",
        "managed policy \"AdministratorAccess\" is not allowed",
    ] {
        assert!(
            findings.contains(expected),
            "missing {expected:?} in:\n{findings}"
        );
    }
    assert!(!findings.contains("fine"), "{findings}");

    // A key policy may name "*" as its resource (this key), but no wildcard action.
    let key_policy = Module::snippet(
        r#"
resource "aws_kms_key" "k" {
  policy = data.aws_iam_policy_document.kms.json
}
data "aws_iam_policy_document" "kms" {
  statement {
    actions   = ["kms:*"]
    resources = ["*"]
  }
}
"#,
    );
    let findings = iam_findings(&key_policy).findings;
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert!(findings[0].contains("action \"kms:*\""), "{findings:?}");

    // And in the real module: a planted "*" action is caught.
    let aws = Module::load("modules/aws");
    let planted = aws.with_edit(
        "iam.tf",
        "actions   = [\"sqs:SendMessage\"]",
        "actions   = [\"sqs:*\"]",
    );
    assert!(
        iam_findings(&planted)
            .findings
            .iter()
            .any(|f| f.contains("\"sqs:*\""))
    );
    let planted = aws.with_edit(
        "iam.tf",
        "resources = [aws_sqs_queue.dead_letter[each.key].arn]",
        "resources = [\"*\"]",
    );
    assert!(!iam_findings(&planted).findings.is_empty());
}

// ---------------------------------------------------------------------------------------------
// 4. Schedules: the code's, from functions/schedules.json

fn expect_object<'a>(value: Option<&'a Value>, what: &str) -> &'a Map<String, Value> {
    value
        .and_then(Value::as_object)
        .unwrap_or_else(|| panic!("{what} does not evaluate to an object"))
}

/// Problems with the schedules of the AWS module: they must come from `functions/schedules.json`
/// (through `file(...)` in a local) and equal the code's schedules one by one.
fn schedule_problems(module: &Module) -> Vec<String> {
    let mut problems = Vec::new();
    let expected_file = repo().join("functions/schedules.json");

    // The file() the locals read, resolved like Terraform would (path.module = the module).
    let mut exprs = Vec::new();
    for local in module.locals() {
        exprs.push(local.expr());
    }
    let mut file_calls = Vec::new();
    while let Some(e) = exprs.pop() {
        match e {
            Expression::FuncCall(f) if f.name.name.as_str() == "file" => file_calls.push(f),
            Expression::FuncCall(f) => exprs.extend(f.args.iter()),
            Expression::ForExpr(f) => exprs.push(&f.collection_expr),
            Expression::Traversal(t) => exprs.push(&t.expr),
            _ => {}
        }
    }
    let base = base_context(module);
    let resolved: Vec<PathBuf> = file_calls
        .iter()
        .filter_map(|f| f.args.first())
        .filter_map(|a| eval_str(a, &base).ok())
        .map(|p| normalize(Path::new(&p)))
        .collect();
    // The schedules and the registry of functions, nothing else.
    let mut files = resolved.clone();
    files.sort();
    let mut allowed = vec![
        normalize(&expected_file),
        normalize(&repo().join("functions/functions.json")),
    ];
    allowed.sort();
    if files != allowed {
        problems.push(format!(
            "the locals must read exactly functions/schedules.json and functions/functions.json, read {resolved:?}"
        ));
    }

    let code = match functions::schedule::all() {
        Ok(c) => c,
        Err(e) => return vec![format!("functions::schedule::all(): {e}")],
    };
    let locals = evaluated_locals(module);
    let Some(schedules) = locals.get("schedules").and_then(Value::as_object) else {
        problems.push("local.schedules does not evaluate (from schedules.json)".into());
        return problems;
    };
    let functions = expect_object(locals.get("functions"), "local.functions");
    let deployed: BTreeSet<&String> = schedules.keys().collect();
    let in_code: BTreeSet<&String> = code.iter().map(|s| &s.job).collect();
    if deployed != in_code {
        problems.push(format!(
            "local.schedules has {deployed:?}, the code {in_code:?}"
        ));
    }

    let resources = module.resources("aws_scheduler_schedule");
    if resources.len() != 1 {
        problems.push(format!(
            "expected one aws_scheduler_schedule (for_each over the file), found {}",
            resources.len()
        ));
    }
    for (name, resource) in resources {
        let body = resource.body();
        let at = format!("aws_scheduler_schedule.{name}");
        if attr_text(body, "for_each").as_deref() != Some("local.schedules") {
            problems.push(format!("{at}: for_each must be local.schedules"));
        }
        if !attr_text(body, "kms_key_arn").is_some_and(|k| k.starts_with("aws_kms_key.")) {
            problems.push(format!("{at}: kms_key_arn must be the CMK"));
        }
        let target = child(body, "target");
        if target.is_none_or(|t| {
            child(t.body(), "retry_policy").is_none()
                || child(t.body(), "dead_letter_config").is_none()
        }) {
            problems.push(format!(
                "{at}: target needs a retry_policy and a dead_letter_config"
            ));
        }
        for schedule in &code {
            let Some(entry) = schedules.get(&schedule.job) else {
                continue;
            };
            let ctx = each_context(&base, &locals, &schedule.job, entry);
            let at = format!("{at}[{:?}]", schedule.job);
            match attr(body, "schedule_expression").map(|e| eval_str(e, &ctx)) {
                Some(Ok(expr)) if expr == schedule.expression => {}
                other => problems.push(format!(
                    "{at}: schedule_expression is {other:?}, the code's is {:?}",
                    schedule.expression
                )),
            }
            match attr(body, "schedule_expression_timezone").map(|e| eval_str(e, &ctx)) {
                None => {}
                Some(Ok(tz)) if tz == "UTC" => {}
                other => problems.push(format!("{at}: time zone {other:?}, the code's is UTC")),
            }
            let Some(target) = target else { continue };
            let input = attr(target.body(), "input").map(|e| eval_str(e, &ctx));
            let want = serde_json::json!({
                "job": schedule.job,
                "scheduled_time": "<aws.scheduler.scheduled-time>",
            });
            match input {
                Some(Ok(json))
                    if serde_json::from_str::<serde_json::Value>(&json)
                        .ok()
                        .as_ref()
                        == Some(&want) => {}
                other => problems.push(format!(
                    "{at}: input is {other:?}, the job Lambdas parse {want}"
                )),
            }
            // target.arn = aws_lambda_function.<name>[<the entry's function>].arn
            let function = match attr(target.body(), "arn") {
                Some(Expression::Traversal(t)) if text(&t.expr) == "aws_lambda_function" => {
                    match t.operators.as_slice() {
                        [
                            TraversalOperator::GetAttr(_),
                            TraversalOperator::Index(i),
                            TraversalOperator::GetAttr(arn),
                        ] if arn.as_str() == "arn" => eval_str(i, &ctx).ok(),
                        _ => None,
                    }
                }
                _ => None,
            };
            if function.as_deref() != Some(schedule.function.as_str()) {
                problems.push(format!(
                    "{at}: targets {function:?}, the code runs it in {:?}",
                    schedule.function
                ));
            }
            let kind = functions
                .get(&schedule.function)
                .and_then(|f| f.as_object())
                .and_then(|f| f.get("kind"))
                .and_then(Value::as_str);
            if kind != Some("job") {
                problems.push(format!(
                    "{at}: function {:?} is not a job function in local.functions",
                    schedule.function
                ));
            }
        }
    }
    problems
}

#[test]
fn the_schedules_are_the_codes_read_from_functions_schedules_json() {
    let aws = Module::load("modules/aws");
    let problems = schedule_problems(&aws);
    assert!(problems.is_empty(), "{problems:#?}");

    // Every expression is valid for the code (the local scheduler) too.
    let after: kernel::Timestamp = "2026-03-01T00:00:00Z".parse().expect("timestamp");
    let code = functions::schedule::all().expect("schedules.json");
    assert!(
        code.len() >= 4,
        "retention, deadline watch, SLA probe, month close"
    );
    for s in &code {
        let next = s
            .next_after(after)
            .unwrap_or_else(|e| panic!("{}: {e}", s.job));
        assert!(next > after, "{}", s.job);
    }
    // And the file Terraform reads is the file the code compiles in.
    let on_disk = std::fs::read_to_string(repo().join("functions/schedules.json")).expect("read");
    assert_eq!(on_disk, functions::schedule::SCHEDULES_JSON);
}

#[test]
fn the_schedule_check_catches_a_changed_expression_or_file() {
    let aws = Module::load("modules/aws");
    let changed = aws.with_edit(
        "scheduler.tf",
        "= each.value.expression",
        "= \"cron(0 * * * ? *)\"",
    );
    let problems = schedule_problems(&changed);
    assert!(
        problems
            .iter()
            .any(|p| p.contains("schedule_expression is")),
        "{problems:#?}"
    );
    let elsewhere = aws.with_edit(
        "locals.tf",
        "functions/schedules.json",
        "terraform/schedules.json",
    );
    assert!(!schedule_problems(&elsewhere).is_empty());
    let wrong_target = aws.with_edit(
        "scheduler.tf",
        "aws_lambda_function.this[each.value.function].arn",
        "aws_lambda_function.this[\"retention\"].arn",
    );
    assert!(
        schedule_problems(&wrong_target)
            .iter()
            .any(|p| p.contains("targets"))
    );
    // The check compares values, not spelling: each.key is the job name too, so this passes.
    let same_input = aws.with_edit(
        "scheduler.tf",
        "job            = each.value.job",
        "job = each.key",
    );
    assert!(schedule_problems(&same_input).is_empty());
    let wrong_input = aws.with_edit(
        "scheduler.tf",
        "\"<aws.scheduler.scheduled-time>\"",
        "\"now\"",
    );
    assert!(
        schedule_problems(&wrong_input)
            .iter()
            .any(|p| p.contains("input is"))
    );
}

// ---------------------------------------------------------------------------------------------
// 5. Backups keep 7 days

fn backup_problems(module: &Module) -> Vec<String> {
    let days = backup_days();
    let mut problems = Vec::new();
    let plans = module.resources("aws_backup_plan");
    if plans.is_empty() {
        problems.push("no aws_backup_plan".into());
    }
    for (name, plan) in plans {
        let rules = children(plan.body(), "rule");
        if rules.is_empty() {
            problems.push(format!("aws_backup_plan.{name}: no rule"));
        }
        for rule in rules {
            let delete_after =
                child(rule.body(), "lifecycle").and_then(|l| number_attr(l.body(), "delete_after"));
            if delete_after != Some(days) {
                problems.push(format!(
                    "aws_backup_plan.{name}: delete_after is {delete_after:?}, the page promises {days}"
                ));
            }
            let schedule = string_attr(rule.body(), "schedule").unwrap_or_default();
            let daily = schedule
                .strip_prefix("cron(")
                .and_then(|s| s.strip_suffix(')'))
                .map(|s| s.split_whitespace().collect::<Vec<_>>())
                .is_some_and(|f| f.len() == 6 && f[2] == "*" && f[1].parse::<u8>().is_ok());
            if !daily {
                problems.push(format!("aws_backup_plan.{name}: {schedule:?} is not daily"));
            }
        }
    }
    let vaults = module.resources("aws_backup_vault");
    if vaults.is_empty() {
        problems.push("no aws_backup_vault".into());
    }
    for (name, vault) in vaults {
        if !attr_text(vault.body(), "kms_key_arn").is_some_and(|k| k.starts_with("aws_kms_key.")) {
            problems.push(format!(
                "aws_backup_vault.{name}: not encrypted with the CMK"
            ));
        }
    }
    for (name, lock) in module.resources("aws_backup_vault_lock_configuration") {
        if number_attr(lock.body(), "max_retention_days") != Some(days) {
            problems.push(format!(
                "aws_backup_vault_lock_configuration.{name}: max retention is not {days} days"
            ));
        }
    }
    let selected = module
        .resources("aws_backup_selection")
        .into_iter()
        .any(|(_, s)| {
            attr_text(s.body(), "resources").is_some_and(|r| r.contains("aws_dynamodb_table."))
        });
    if !selected {
        problems.push("no aws_backup_selection covers the table".into());
    }
    problems
}

#[test]
fn backups_are_kept_7_days() {
    let aws = Module::load("modules/aws");
    let problems = backup_problems(&aws);
    assert!(problems.is_empty(), "{problems:#?}");
    let longer = aws.with_edit("backup.tf", "delete_after = 7", "delete_after = 35");
    assert!(!backup_problems(&longer).is_empty());
}

// ---------------------------------------------------------------------------------------------
// 6. Lambdas

/// The Lambda binaries and their kind, from functions/src/bin.
fn binaries() -> BTreeMap<String, &'static str> {
    let dir = repo().join("functions/src/bin");
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("functions/src/bin") {
        let path = entry.expect("entry").path();
        let source = std::fs::read_to_string(&path).expect("read bin");
        let kind = if source.contains("serve_http") {
            "http"
        } else if source.contains("run_jobs") {
            "job"
        } else {
            panic!("{}: neither serve_http nor run_jobs", path.display())
        };
        let name = path
            .file_stem()
            .expect("stem")
            .to_string_lossy()
            .to_string();
        out.insert(name, kind);
    }
    out
}

/// Every variable the functions read (functions/src/config.rs, lambda.rs); AWS_REGION comes from
/// Lambda itself.
const FUNCTION_ENVIRONMENT: [&str; 15] = [
    "REGROOTER_ENV",
    "REGROOTER_STORE",
    "REGROOTER_TABLE",
    "REGROOTER_KMS_KEY_ID",
    "REGROOTER_JWKS",
    "REGROOTER_CERTIFICATE_JWKS",
    "REGROOTER_SLA_TARGETS",
    "REGROOTER_ORIGIN_SECRET",
    "REGROOTER_ALLOWED_REGIONS",
    "REGROOTER_DPO_CONTACT",
    "REGROOTER_SECURITY_CONTACT",
    "REGROOTER_ALERT_EMAIL",
    "REGROOTER_PUBLIC_URL",
    "REGROOTER_BACKUP_RETENTION_DAYS",
    "RUST_LOG",
];

fn lambda_problems(module: &Module) -> Vec<String> {
    let mut problems = Vec::new();
    let bins = binaries();
    let locals = evaluated_locals(module);
    let base = base_context(module);
    let functions = expect_object(locals.get("functions"), "local.functions");
    let declared: BTreeMap<String, String> = functions
        .iter()
        .map(|(k, v)| {
            let kind = v
                .as_object()
                .and_then(|o| o.get("kind"))
                .and_then(Value::as_str)
                .unwrap_or("?");
            (k.clone(), kind.to_string())
        })
        .collect();
    let from_bins: BTreeMap<String, String> = bins
        .iter()
        .map(|(k, v)| (k.clone(), v.to_string()))
        .collect();
    if declared != from_bins {
        problems.push(format!(
            "local.functions {declared:?} must be the binaries in functions/src/bin {from_bins:?}"
        ));
    }
    // Kind and description of each function are the registry's.
    match kernel::registry::Registry::embedded() {
        Err(e) => problems.push(e.to_string()),
        Ok(registry) => {
            let from_registry: BTreeMap<String, (String, String)> = registry
                .functions
                .iter()
                .map(|(name, f)| {
                    (
                        name.clone(),
                        (f.kind.as_str().to_string(), f.description.clone()),
                    )
                })
                .collect();
            let deployed: BTreeMap<String, (String, String)> = functions
                .iter()
                .map(|(name, v)| {
                    let field = |k: &str| {
                        v.as_object()
                            .and_then(|o| o.get(k))
                            .and_then(Value::as_str)
                            .unwrap_or("?")
                            .to_string()
                    };
                    (name.clone(), (field("kind"), field("description")))
                })
                .collect();
            if deployed != from_registry {
                problems.push(format!(
                    "local.functions {deployed:?} must be functions/functions.json {from_registry:?}"
                ));
            }
        }
    }

    let lambdas = module.resources("aws_lambda_function");
    if lambdas.len() != 1 {
        problems.push(format!(
            "expected one aws_lambda_function (for_each over local.functions), found {}",
            lambdas.len()
        ));
    }
    let log_groups: BTreeMap<&str, &Block> = module
        .resources("aws_cloudwatch_log_group")
        .into_iter()
        .collect();
    let queues: BTreeMap<&str, &Block> = module.resources("aws_sqs_queue").into_iter().collect();
    for (name, lambda) in lambdas {
        let body = lambda.body();
        let at = format!("aws_lambda_function.{name}");
        if attr_text(body, "for_each").as_deref() != Some("local.functions") {
            problems.push(format!("{at}: for_each must be local.functions"));
        }
        for (key, want) in [("runtime", "provided.al2023"), ("handler", "bootstrap")] {
            if string_attr(body, key) != Some(want) {
                problems.push(format!("{at}: {key} must be {want}"));
            }
        }
        if attr_text(body, "architectures")
            .map(|t| squash(&t))
            .as_deref()
            != Some("[\"x86_64\"]")
        {
            problems.push(format!(
                "{at}: architectures must be [\"x86_64\"] (cargo lambda --x86-64)"
            ));
        }
        if !attr_text(body, "kms_key_arn").is_some_and(|k| k.starts_with("aws_kms_key.")) {
            problems.push(format!(
                "{at}: environment not encrypted with the CMK (kms_key_arn)"
            ));
        }
        if child(body, "tracing_config").and_then(|t| string_attr(t.body(), "mode"))
            != Some("Active")
        {
            problems.push(format!("{at}: tracing_config mode must be Active"));
        }
        let dlq = child(body, "dead_letter_config").and_then(|d| attr(d.body(), "target_arn"));
        let dlq_queue = dlq.and_then(|e| match e {
            Expression::Traversal(t) if text(&t.expr) == "aws_sqs_queue" => {
                match t.operators.first() {
                    Some(TraversalOperator::GetAttr(q)) => Some(q.as_str().to_string()),
                    _ => None,
                }
            }
            _ => None,
        });
        match dlq_queue.as_deref().and_then(|q| queues.get(q)) {
            Some(q)
                if attr_text(q.body(), "kms_master_key_id")
                    .is_some_and(|k| k.starts_with("aws_kms_key.")) => {}
            _ => problems.push(format!(
                "{at}: needs a dead-letter queue encrypted with the CMK"
            )),
        }
        let log_group = child(body, "logging_config")
            .and_then(|l| attr_text(l.body(), "log_group"))
            .unwrap_or_default();
        let group = log_group
            .strip_prefix("aws_cloudwatch_log_group.")
            .and_then(|r| r.split(['[', '.']).next())
            .and_then(|g| log_groups.get(g));
        match group {
            Some(g) => {
                let g = g.body();
                if !attr_text(g, "kms_key_id").is_some_and(|k| k.starts_with("aws_kms_key.")) {
                    problems.push(format!("{at}: its log group is not encrypted with the CMK"));
                }
                let retention = attr(g, "retention_in_days").map(|e| eval_u64(e, &base));
                if !matches!(retention, Some(Ok(30..=365))) {
                    problems.push(format!(
                        "{at}: log retention {retention:?}, want 30-365 days"
                    ));
                }
                if attr_text(g, "name").is_none_or(|n| !n.starts_with("\"/aws/lambda/")) {
                    problems.push(format!("{at}: log group must be /aws/lambda/<function>"));
                }
            }
            None => problems.push(format!(
                "{at}: logging_config must name its aws_cloudwatch_log_group"
            )),
        }
        // The environment: every variable the code reads, the store on DynamoDB.
        let environment = child(body, "environment").and_then(|e| attr_text(e.body(), "variables"));
        // Either `local.function_environment` or that merged with the per-function secrets.
        let common_local = environment.as_deref().and_then(|t| {
            t.strip_prefix("merge(")
                .unwrap_or(t)
                .strip_prefix("local.")
                .and_then(|rest| rest.split([',', ')']).next())
        });
        if let Some(t) = environment.as_deref()
            && t.starts_with("merge(")
            && t != "merge(local.function_environment, lookup(local.function_secrets, each.key, {}), lookup(local.mail_environment, each.key, {}))"
        {
            problems.push(format!("{at}: environment {t} merges something unexpected"));
        }
        let env_keys: BTreeSet<String> = match common_local.and_then(|l| module.local(l)) {
            Some(Expression::Object(o)) => {
                if o.iter()
                    .find(|(k, _)| object_key(k) == "REGROOTER_STORE")
                    .and_then(|(_, v)| literal(v))
                    != Some("dynamodb")
                {
                    problems.push(format!("{at}: REGROOTER_STORE must be dynamodb"));
                }
                o.keys().map(object_key).collect()
            }
            _ => BTreeSet::new(),
        };
        let wanted: BTreeSet<String> = FUNCTION_ENVIRONMENT.iter().map(|s| s.to_string()).collect();
        if env_keys != wanted {
            problems.push(format!(
                "{at}: environment has {env_keys:?}, the code reads {wanted:?}"
            ));
        }
        // Per function: size, time, concurrency, the zip.
        for (function, value) in functions {
            let ctx = each_context(&base, &locals, function, value);
            let at = format!("{at}[{function:?}]");
            let memory = attr(body, "memory_size").map(|e| eval_u64(e, &ctx));
            if !matches!(memory, Some(Ok(128..=256))) {
                problems.push(format!("{at}: memory_size {memory:?}, want 128-256 MB"));
            }
            let timeout = attr(body, "timeout").map(|e| eval_u64(e, &ctx));
            let max = if bins.get(function) == Some(&"http") {
                30
            } else {
                900
            };
            if !matches!(timeout, Some(Ok(t)) if (1..=max).contains(&t)) {
                problems.push(format!("{at}: timeout {timeout:?}, want 1-{max} s"));
            }
            let reserved = attr(body, "reserved_concurrent_executions").map(|e| eval_u64(e, &ctx));
            if !matches!(reserved, Some(Ok(n)) if n >= 1) {
                problems.push(format!("{at}: reserved concurrency {reserved:?}"));
            }
            let zip = attr(body, "filename").map(|e| eval_str(e, &ctx));
            let want = normalize(&repo().join(format!("target/lambda/{function}/bootstrap.zip")));
            match zip {
                Some(Ok(path)) if normalize(Path::new(&path)) == want => {}
                other => problems.push(format!(
                    "{at}: filename {other:?}, scripts/lambda-build makes {}",
                    want.display()
                )),
            }
        }
    }

    // Function URLs only for HTTP functions; their public permissions only through the URL.
    for (name, url) in module.resources("aws_lambda_function_url") {
        if attr_text(url.body(), "for_each").as_deref() != Some("local.http_functions") {
            problems.push(format!(
                "aws_lambda_function_url.{name}: only for local.http_functions"
            ));
        }
    }
    for (name, permission) in module.resources("aws_lambda_permission") {
        let body = permission.body();
        if string_attr(body, "principal") == Some("*") {
            let via_url = (string_attr(body, "function_url_auth_type") == Some("NONE")
                && string_attr(body, "action") == Some("lambda:InvokeFunctionUrl"))
                || (bool_attr(body, "invoked_via_function_url") == Some(true)
                    && string_attr(body, "action") == Some("lambda:InvokeFunction"));
            if !via_url || attr_text(body, "for_each").as_deref() != Some("local.http_functions") {
                problems.push(format!(
                    "aws_lambda_permission.{name}: a public permission must be limited to the function URL of an HTTP function"
                ));
            }
        }
    }
    let http = expect_object(locals.get("http_functions"), "local.http_functions");
    let http_keys: BTreeSet<&str> = http.keys().map(String::as_str).collect();
    let http_bins: BTreeSet<&str> = bins
        .iter()
        .filter(|(_, k)| **k == "http")
        .map(|(n, _)| n.as_str())
        .collect();
    if http_keys != http_bins {
        problems.push(format!(
            "local.http_functions {http_keys:?} != HTTP binaries {http_bins:?}"
        ));
    }
    problems
}

#[test]
fn every_lambda_is_encrypted_traced_bounded_and_logged() {
    let aws = Module::load("modules/aws");
    let problems = lambda_problems(&aws);
    assert!(problems.is_empty(), "{problems:#?}");
    // Every job function has a schedule.
    let code = functions::schedule::all().expect("schedules");
    for (name, kind) in binaries() {
        if kind == "job" {
            assert!(
                code.iter().any(|s| s.function == name),
                "job function {name} has no schedule"
            );
        }
    }
}

#[test]
fn the_lambda_check_catches_a_missing_setting() {
    let aws = Module::load("modules/aws");
    for (from, to) in [
        ("  tracing_config {\n    mode = \"Active\"\n  }\n", ""),
        (
            "  kms_key_arn = aws_kms_key.main.arn\n\n  environment",
            "  environment",
        ),
        (
            "reserved_concurrent_executions = lookup(var.reserved_concurrency, each.key, each.value.concurrency)",
            "",
        ),
        ("      memory      = 128\n", "      memory      = 1024\n"),
        ("    RUST_LOG                   = var.rust_log\n", ""),
    ] {
        let file = if from.contains("RUST_LOG") || from.contains("memory") {
            "locals.tf"
        } else {
            "lambda.tf"
        };
        let broken = aws.with_edit(file, from, to);
        assert!(
            !lambda_problems(&broken).is_empty(),
            "not caught: {from:?} -> {to:?}"
        );
    }
    let no_retention = aws.with_edit(
        "lambda.tf",
        "  retention_in_days = var.log_retention_days\n",
        "",
    );
    assert!(!lambda_problems(&no_retention).is_empty());
}

// ---------------------------------------------------------------------------------------------
// 6b. Mail

/// SES in the module: what the functions marked "mail" in the registry may do and read, and how
/// delivery events reach the incidents function.
fn mail_problems(module: &Module) -> Vec<String> {
    let mut problems = Vec::new();
    let locals = evaluated_locals(module);
    // The senders are the registry's.
    let senders: BTreeSet<String> = match kernel::registry::Registry::embedded() {
        Ok(r) => r
            .functions
            .iter()
            .filter(|(_, f)| f.mail)
            .map(|(n, _)| n.clone())
            .collect(),
        Err(e) => {
            problems.push(e.to_string());
            BTreeSet::new()
        }
    };
    let deployed: BTreeSet<String> =
        expect_object(locals.get("mail_functions"), "local.mail_functions")
            .keys()
            .cloned()
            .collect();
    if deployed != senders {
        problems.push(format!(
            "local.mail_functions {deployed:?} must be the registry's mail functions {senders:?}"
        ));
    }
    // Their settings: SES, its configuration set, the sender; the events topic for incidents.
    let environment = module
        .local("mail_environment")
        .map(|e| squash(&text(e)))
        .unwrap_or_default();
    for needle in [
        "REGROOTER_MAIL=\"ses\"",
        "REGROOTER_SES_CONFIGURATION_SET=aws_sesv2_configuration_set.mail.configuration_set_name",
        "REGROOTER_MAIL_FROM=local.mail_from",
        "REGROOTER_MAIL_EVENTS_TOPIC=aws_sns_topic.mail_events.arn",
        "inlocal.mail_functions",
    ] {
        if !environment.contains(needle) {
            problems.push(format!("local.mail_environment lacks {needle}"));
        }
    }
    // TLS to the receiving servers.
    let sets = module.resources("aws_sesv2_configuration_set");
    let tls = sets.iter().all(|(_, b)| {
        child(b.body(), "delivery_options").and_then(|d| string_attr(d.body(), "tls_policy"))
            == Some("REQUIRE")
    });
    if sets.len() != 1 || !tls {
        problems
            .push("one SES configuration set, with delivery_options.tls_policy = REQUIRE".into());
    }
    // DKIM on the identity.
    if !module
        .resources("aws_sesv2_email_identity")
        .iter()
        .all(|(_, b)| child(b.body(), "dkim_signing_attributes").is_some())
    {
        problems.push("the SES identity signs with DKIM (dkim_signing_attributes)".into());
    }
    // The events topic is encrypted, and only it may invoke the function SNS delivers to.
    for (name, topic) in module.resources("aws_sns_topic") {
        if !attr_text(topic.body(), "kms_master_key_id")
            .is_some_and(|k| k.starts_with("aws_kms_key."))
        {
            problems.push(format!(
                "aws_sns_topic.{name} must be encrypted with the CMK"
            ));
        }
    }
    let sns_permissions: Vec<(&str, &Block)> = module
        .resources("aws_lambda_permission")
        .into_iter()
        .filter(|(_, b)| string_attr(b.body(), "principal") == Some("sns.amazonaws.com"))
        .collect();
    if sns_permissions.len() != 1
        || !sns_permissions.iter().all(|(_, b)| {
            attr_text(b.body(), "source_arn").as_deref() == Some("aws_sns_topic.mail_events.arn")
                && attr_text(b.body(), "function_name")
                    .is_some_and(|f| f.contains("aws_lambda_function.this[\"incidents\"]"))
        })
    {
        problems.push(
            "exactly one SNS permission: the mail events topic (source_arn) invoking incidents"
                .into(),
        );
    }
    // SendEmail: only from the identity, through the configuration set, only for senders.
    let policy_text = module
        .sources
        .iter()
        .find(|(name, _)| name == "iam.tf")
        .map(|(_, t)| squash(t))
        .unwrap_or_default();
    for needle in [
        "for_each=each.value.mail?[\"mail\"]:[]",
        "actions=[\"ses:SendEmail\"]",
        "resources=[aws_sesv2_email_identity.mail.arn,aws_sesv2_configuration_set.mail.arn]",
        "variable=\"ses:FromAddress\"",
    ] {
        if !policy_text.contains(needle) {
            problems.push(format!("the function policy lacks {needle}"));
        }
    }
    problems
}

#[test]
fn mail_leaves_only_through_ses_with_tls_and_its_events_reach_only_incidents() {
    let aws = Module::load("modules/aws");
    let problems = mail_problems(&aws);
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_mail_check_catches_a_missing_setting() {
    let aws = Module::load("modules/aws");
    for (file, from, to) in [
        (
            "mail.tf",
            "    tls_policy = \"REQUIRE\"\n",
            "    tls_policy = \"OPTIONAL\"\n",
        ),
        (
            "mail.tf",
            "  source_arn    = aws_sns_topic.mail_events.arn\n",
            "",
        ),
        (
            "mail.tf",
            "  kms_master_key_id = aws_kms_key.main.arn\n}\n\ndata \"aws_iam_policy_document\" \"mail_events_topic\"",
            "}\n\ndata \"aws_iam_policy_document\" \"mail_events_topic\"",
        ),
        (
            "mail.tf",
            "        REGROOTER_MAIL                  = \"ses\"\n",
            "",
        ),
        (
            "locals.tf",
            "      mail        = lookup(f, \"mail\", false)\n",
            "      mail        = true\n",
        ),
    ] {
        let broken = aws.with_edit(file, from, to);
        assert!(
            !mail_problems(&broken).is_empty(),
            "not caught: {from:?} -> {to:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 7. Secrets and the edge

/// The Worker's bindings: name → (type, the expression of its value or class).
fn worker_bindings(module: &Module) -> BTreeMap<String, (String, String)> {
    let versions = module.resources("cloudflare_worker_version");
    assert_eq!(versions.len(), 1, "one cloudflare_worker_version");
    let Some(Expression::Array(items)) = attr(versions[0].1.body(), "bindings") else {
        panic!("bindings must be a list of objects");
    };
    items
        .iter()
        .map(|item| {
            let Expression::Object(o) = item else {
                panic!("binding is not an object")
            };
            let get = |key: &str| {
                o.iter()
                    .find(|(k, _)| object_key(k) == key)
                    .map(|(_, v)| literal(v).map_or_else(|| text(v), String::from))
            };
            let value = get("text")
                .or_else(|| get("class_name"))
                .unwrap_or_default();
            (
                get("name").expect("binding name"),
                (get("type").expect("binding type"), value),
            )
        })
        .collect()
}

fn sensitive_without_default(module: &Module, name: &str) -> bool {
    module.variable(name).is_some_and(|v| {
        bool_attr(v.body(), "sensitive") == Some(true) && attr(v.body(), "default").is_none()
    })
}

/// The names the Worker reads from its environment (`var(env, "…")`, `env.secret("…")`, and the
/// origin of every http function), found in its source.
fn worker_reads() -> BTreeSet<String> {
    let source = std::fs::read_to_string(repo().join("edge/src/worker.rs")).expect("worker.rs");
    let mut names = BTreeSet::new();
    for marker in ["var(env, \"", "var(self.env, \"", "secret(\""] {
        for (at, _) in source.match_indices(marker) {
            let rest = &source[at + marker.len()..];
            if let Some(end) = rest.find('"') {
                names.insert(rest[..end].to_string());
            }
        }
    }
    let registry = kernel::registry::Registry::embedded().expect("registry");
    for (function, _) in registry.of_kind(kernel::registry::Kind::Http) {
        names.insert(format!(
            "ORIGIN_{}",
            function.to_uppercase().replace('-', "_")
        ));
    }
    names
}

#[test]
fn the_deployed_worker_has_a_binding_for_everything_it_reads_and_probes_what_the_region_probes() {
    let cf = Module::load("modules/cloudflare");
    let bindings = worker_bindings(&cf);
    let reads = worker_reads();
    // Read with a default when absent (REQUIRE_HTTPS: on; PARANOIA: 1; WAF_REPORT_ONLY: none).
    let optional = ["REQUIRE_HTTPS", "PARANOIA", "WAF_REPORT_ONLY"];
    let missing: Vec<&String> = reads
        .iter()
        .filter(|name| !optional.contains(&name.as_str()) && !bindings.contains_key(*name))
        .collect();
    assert!(
        missing.is_empty(),
        "the Worker reads {missing:?}, Terraform binds none of them"
    );
    assert!(
        reads.contains("PROBE_TARGETS") && reads.contains("POLICY_URL"),
        "{reads:?}"
    );

    // A cron trigger every minute: the second vantage.
    let triggers = cf.resources("cloudflare_workers_cron_trigger");
    assert_eq!(triggers.len(), 1);
    assert!(
        text(attr(triggers[0].1.body(), "schedules").expect("schedules")).contains("\"* * * * *\"")
    );

    // Both vantages probe the one list each environment names: the product, never derived from
    // the trust page's own hostname.
    for env in ["dev", "staging", "prod"] {
        let main = std::fs::read_to_string(repo().join(format!("terraform/envs/{env}/main.tf")))
            .expect("main.tf");
        assert!(
            main.contains("sla_targets             = var.product_targets"),
            "{env}: sla_targets"
        );
        assert!(
            main.contains("probe_targets     = var.product_targets"),
            "{env}: probe_targets"
        );
        assert!(
            !main.contains("/healthz\""),
            "{env}: a probe target written into main.tf"
        );
    }
}

#[test]
fn secrets_come_only_from_sensitive_variables() {
    let cf = Module::load("modules/cloudflare");
    let bindings = worker_bindings(&cf);
    let want = |name: &str, ty: &str, value: &str| {
        assert_eq!(
            bindings.get(name),
            Some(&(ty.to_string(), value.to_string())),
            "binding {name}"
        );
    };
    want("ORIGIN_SECRET", "secret_text", "var.origin_secret");
    want("IP_HASH_KEY", "secret_text", "var.ip_hash_key");
    want("RATE_LIMITER", "durable_object_namespace", "RateLimiter");
    want("JWKS", "plain_text", "var.jwks");
    for (binding, function) in [
        ("ORIGIN_INCIDENTS", "incidents"),
        ("ORIGIN_STRIPE_WEBHOOK", "stripe-webhook"),
        ("ORIGIN_AUTH", "auth"),
        ("ORIGIN_SLA", "sla"),
    ] {
        want(
            binding,
            "plain_text",
            &format!("var.origin_urls[\"{function}\"]"),
        );
    }
    for (name, (ty, _)) in &bindings {
        let secretish = name.contains("SECRET") || name.contains("KEY");
        assert!(
            !secretish || ty == "secret_text",
            "{name} must be secret_text"
        );
    }
    assert!(sensitive_without_default(&cf, "origin_secret"));
    assert!(sensitive_without_default(&cf, "ip_hash_key"));

    // The Durable Object class exists through the version's migration.
    let version = cf.resources("cloudflare_worker_version")[0].1.body();
    let migrations = attr(version, "migrations").map(text).unwrap_or_default();
    assert!(migrations.contains("\"RateLimiter\""), "{migrations}");
    let modules = attr(version, "modules").map(text).unwrap_or_default();
    assert!(modules.contains("var.worker_bundle_dir") && modules.contains("application/wasm"));

    let aws = Module::load("modules/aws");
    assert!(sensitive_without_default(&aws, "origin_secrets"));
    let origin = match aws.local("function_environment") {
        Some(Expression::Object(o)) => o
            .iter()
            .find(|(k, _)| object_key(k) == "REGROOTER_ORIGIN_SECRET")
            .map(|(_, v)| text(v)),
        _ => None,
    };
    assert_eq!(origin.as_deref(), Some("join(\",\", var.origin_secrets)"));

    // Stripe's secrets reach only the functions that use them.
    assert!(sensitive_without_default(&aws, "stripe_webhook_secrets"));
    assert!(sensitive_without_default(&aws, "stripe_secret_key"));
    let common = text(aws.local("function_environment").expect("environment"));
    assert!(!common.contains("stripe"), "{common}");
    let secrets = text(aws.local("function_secrets").expect("function_secrets"));
    let holders = |needle: &str| -> Vec<String> {
        match aws.local("function_secrets") {
            Some(Expression::Object(o)) => o
                .iter()
                .filter(|(_, v)| text(v).contains(needle))
                .map(|(k, _)| object_key(k))
                .collect(),
            _ => vec![],
        }
    };
    assert_eq!(
        holders("var.stripe_webhook_secrets"),
        ["stripe-webhook"],
        "{secrets}"
    );
    // Exactly the functions the registry lets use Stripe (the others refuse the key at start).
    let stripe_users: Vec<String> = kernel::registry::Registry::embedded()
        .expect("registry")
        .functions
        .iter()
        .filter(|(_, f)| f.stripe)
        .map(|(name, _)| name.clone())
        .collect();
    assert_eq!(holders("var.stripe_secret_key"), stripe_users, "{secrets}");
    // The deletion-certificate signing key: only the retention job signs.
    assert!(sensitive_without_default(&aws, "certificate_signing_key"));
    assert_eq!(
        holders("var.certificate_signing_key"),
        ["retention"],
        "{secrets}"
    );
    assert!(!common.contains("certificate_signing_key"), "{common}");
    // Token signing and the sign-in index: only the auth function.
    for secret in ["token_signing_key", "index_key"] {
        assert!(sensitive_without_default(&aws, secret), "{secret}");
        assert_eq!(holders(&format!("var.{secret}")), ["auth"], "{secrets}");
    }
    let lambda = aws.resources("aws_lambda_function")[0].1.body();
    let environment = text(
        lambda
            .blocks()
            .find(|b| b.identifier() == "environment")
            .map(|b| b.body())
            .and_then(|b| attr(b, "variables"))
            .expect("variables"),
    );
    assert!(
        environment.contains("local.function_secrets"),
        "{environment}"
    );

    for env in ENVS {
        let m = Module::load(&format!("envs/{env}"));
        assert!(
            sensitive_without_default(&m, "stripe_webhook_secret"),
            "{env}"
        );
        assert!(sensitive_without_default(&m, "stripe_secret_key"), "{env}");
        for secret in ["certificate_signing_key", "token_signing_key", "index_key"] {
            assert!(sensitive_without_default(&m, secret), "{env}: {secret}");
        }
        assert!(sensitive_without_default(&m, "origin_secret"), "{env}");
        assert!(sensitive_without_default(&m, "ip_hash_key"), "{env}");
        let previous = m
            .variable("origin_secret_previous")
            .expect("origin_secret_previous");
        assert_eq!(bool_attr(previous.body(), "sensitive"), Some(true));
        assert_eq!(string_attr(previous.body(), "default"), Some(""));
    }
}

#[test]
fn the_edge_sits_behind_cloudflares_waf_and_rate_limits() {
    let cf = Module::load("modules/cloudflare");
    let rulesets = cf.resources("cloudflare_ruleset");
    let phase = |p: &str| {
        rulesets
            .iter()
            .find(|(_, b)| string_attr(b.body(), "phase") == Some(p))
            .map(|(_, b)| text(attr(b.body(), "rules").expect("rules")))
            .unwrap_or_else(|| panic!("no ruleset in phase {p}"))
    };
    let managed = phase("http_request_firewall_managed");
    assert!(managed.contains("\"execute\""), "{managed}");
    let locals = evaluated_locals(&cf);
    assert_eq!(
        locals
            .get("cloudflare_managed_ruleset_id")
            .and_then(Value::as_str),
        Some("efb7b8c949ac4650a09736fc376e9aee"),
        "Cloudflare Managed Ruleset"
    );
    let limits = phase("http_ratelimit");
    for path in ["/auth/", "/security/reports", "/api/"] {
        assert!(limits.contains(path), "no rate limit on {path}: {limits}");
    }
    let worker = cf.resources("cloudflare_worker");
    assert_eq!(worker.len(), 1);
    let worker = worker[0].1.body();
    assert_eq!(
        attr_text(worker, "name").as_deref(),
        Some("var.script_name")
    );
    let subdomain = attr(worker, "subdomain")
        .expect("subdomain")
        .evaluate(&Context::new())
        .expect("subdomain is literal");
    for key in ["enabled", "previews_enabled"] {
        assert_eq!(
            subdomain.as_object().and_then(|o| o.get(key)),
            Some(&Value::Bool(false)),
            "the workers.dev subdomain must be off ({key})"
        );
    }
    let script = cf.variable("script_name").expect("script_name");
    assert_eq!(
        string_attr(script.body(), "default"),
        Some("regrooter-edge")
    );
    for (_, route) in cf.resources("cloudflare_workers_route") {
        assert_eq!(
            attr_text(route.body(), "script").as_deref(),
            Some("cloudflare_worker.edge.name")
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 8. Environments: separate state, separate accounts

#[test]
fn environments_have_their_own_state_account_and_name() {
    let mut buckets = BTreeSet::new();
    let mut keys = BTreeSet::new();
    let mut locks = BTreeSet::new();
    let mut names = BTreeSet::new();
    for env in ENVS {
        let m = Module::load(&format!("envs/{env}"));
        let terraform = m
            .blocks()
            .find(|b| b.identifier() == "terraform")
            .expect("terraform block");
        let backend = children(terraform.body(), "backend")
            .into_iter()
            .find(|b| label(b, 0) == Some("s3"))
            .unwrap_or_else(|| panic!("{env}: no s3 backend"));
        let b = backend.body();
        let bucket = string_attr(b, "bucket").expect("bucket").to_string();
        let key = string_attr(b, "key").expect("key").to_string();
        let lock = string_attr(b, "dynamodb_table")
            .expect("dynamodb_table")
            .to_string();
        for value in [&bucket, &key, &lock] {
            assert!(
                value.contains(env),
                "{env}: {value} does not name the environment"
            );
        }
        assert_eq!(
            bool_attr(b, "encrypt"),
            Some(true),
            "{env}: state encrypted"
        );
        assert_eq!(
            string_attr(b, "region"),
            Some("eu-central-1"),
            "{env}: state in Frankfurt"
        );
        buckets.insert(bucket);
        keys.insert(key);
        locks.insert(lock);

        let provider = m
            .blocks()
            .find(|b| b.identifier() == "provider" && label(b, 0) == Some("aws"))
            .expect("aws provider");
        assert_eq!(
            attr_text(provider.body(), "allowed_account_ids")
                .map(|t| squash(&t))
                .as_deref(),
            Some("[var.aws_account_id]"),
            "{env}: the provider is pinned to the environment's account"
        );
        let account = m.variable("aws_account_id").expect("aws_account_id");
        assert!(attr(account.body(), "default").is_none(), "{env}");
        let validation = child(account.body(), "validation")
            .and_then(|v| attr_text(v.body(), "condition"))
            .unwrap_or_default();
        assert!(validation.contains("[0-9]{12}"), "{env}: {validation}");

        let locals = evaluated_locals(&m);
        let name = locals
            .get("environment")
            .and_then(Value::as_str)
            .expect("local.environment")
            .to_string();
        names.insert(name);
        for (module, source) in [
            ("aws", "../../modules/aws"),
            ("cloudflare", "../../modules/cloudflare"),
        ] {
            let call = m
                .blocks()
                .find(|b| b.identifier() == "module" && label(b, 0) == Some(module))
                .unwrap_or_else(|| panic!("{env}: no module {module}"));
            assert_eq!(string_attr(call.body(), "source"), Some(source));
            assert_eq!(
                attr_text(call.body(), "environment").as_deref(),
                Some("local.environment")
            );
        }
    }
    assert_eq!(buckets.len(), 3, "one state bucket per environment");
    assert_eq!(keys.len(), 3);
    assert_eq!(locks.len(), 3, "one lock table per environment");
    assert_eq!(
        names,
        ["dev", "production", "staging"]
            .into_iter()
            .map(String::from)
            .collect::<BTreeSet<_>>()
    );
}

// ---------------------------------------------------------------------------------------------
// KMS: data keys only with their encryption context

/// A policy document's statements, the dynamic ones' content included.
fn statements(doc: &Body) -> Vec<&Body> {
    let mut out: Vec<&Body> = children(doc, "statement")
        .into_iter()
        .map(Block::body)
        .collect();
    for dynamic in children(doc, "dynamic") {
        if label(dynamic, 0) == Some("statement") {
            out.extend(
                children(dynamic.body(), "content")
                    .into_iter()
                    .map(Block::body),
            );
        }
    }
    out
}

/// Every statement that lets the functions make or open data keys — in the policy of their
/// roles (the `function` document) or in the key policy naming their roles — must bind them to
/// their encryption context (infra/src/kms.rs sends `{tenant, purpose}`), unless the key is
/// used through an integrated AWS service (`kms:ViaService`). AWS services and the scheduler's
/// role use the key under their own conditions (source account, log group ARN). Returns the
/// problems and how many statements were checked.
fn kms_context_problems(module: &Module) -> (Vec<String>, usize) {
    let mut problems = Vec::new();
    let mut checked = 0;
    for (name, doc) in module.data_sources("aws_iam_policy_document") {
        for (i, statement) in statements(doc.body()).into_iter().enumerate() {
            let at = format!(
                "{name}[{}]",
                string_attr(statement, "sid").map_or_else(|| i.to_string(), str::to_string)
            );
            let mut lits = Vec::new();
            if let Some(actions) = attr(statement, "actions") {
                literals(module, actions, 0, &mut lits);
            }
            let actions: Vec<String> = lits
                .into_iter()
                .map(|l| match l {
                    Lit::Plain(s) | Lit::Template(s) => s,
                })
                .collect();
            let functions_use_it = name == "function"
                || children(statement, "principals").iter().any(|p| {
                    attr_text(p.body(), "identifiers")
                        .is_some_and(|ids| ids.contains("aws_iam_role.function"))
                });
            if !functions_use_it {
                continue;
            }
            let wraps = actions.iter().any(|a| a == "kms:GenerateDataKey");
            let opens = actions.iter().any(|a| a == "kms:Decrypt");
            if !wraps && !opens {
                continue;
            }
            checked += 1;
            let conditions: Vec<(String, String, Vec<String>)> = children(statement, "condition")
                .into_iter()
                .map(|c| {
                    let mut values = Vec::new();
                    if let Some(v) = attr(c.body(), "values") {
                        strings_in(v, &mut values);
                    }
                    values.sort();
                    (
                        string_attr(c.body(), "test").unwrap_or("").to_string(),
                        string_attr(c.body(), "variable").unwrap_or("").to_string(),
                        values,
                    )
                })
                .collect();
            let has = |test: &str, variable: &str, values: &[&str]| {
                conditions
                    .iter()
                    .any(|(t, v, vals)| t == test && v == variable && vals == values)
            };
            if conditions.iter().any(|(_, v, _)| v == "kms:ViaService") {
                continue;
            }
            let tenant_and_purpose = has(
                "ForAllValues:StringEquals",
                "kms:EncryptionContextKeys",
                &["purpose", "tenant"],
            ) && has("Null", "kms:EncryptionContextKeys", &["false"]);
            let named_context = conditions.iter().any(|(t, v, _)| {
                v.starts_with("kms:EncryptionContext:") && (t == "StringEquals" || t == "ArnEquals")
            });
            if wraps && !tenant_and_purpose {
                problems.push(format!(
                    "{at}: makes data keys without requiring the context {{tenant, purpose}}"
                ));
            } else if opens && !tenant_and_purpose && !named_context {
                problems.push(format!(
                    "{at}: decrypts without an encryption-context condition"
                ));
            }
        }
    }
    (problems, checked)
}

#[test]
fn data_keys_are_made_and_opened_only_with_their_encryption_context() {
    let aws = Module::load("modules/aws");
    let (problems, checked) = kms_context_problems(&aws);
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(checked >= 4, "{checked} statements checked");
}

#[test]
fn the_encryption_context_check_catches_each_loosened_condition() {
    let aws = Module::load("modules/aws");
    let null_condition = "\n    condition {\n      test     = \"Null\"\n      variable = \"kms:EncryptionContextKeys\"\n      values   = [\"false\"]\n    }\n";
    for (file, from, to, expected) in [
        // Without the Null test, a call with no context at all passes ForAllValues.
        ("kms.tf", null_condition, "\n", "FunctionsWrapDataKeys"),
        (
            "iam.tf",
            "values   = [\"tenant\", \"purpose\"]",
            "values   = [\"tenant\"]",
            "WrapDataKeys",
        ),
        (
            "iam.tf",
            "variable = \"kms:EncryptionContext:LambdaFunctionName\"",
            "variable = \"aws:PrincipalTag/team\"",
            "ReadOwnEnvironment",
        ),
    ] {
        let (problems, _) = kms_context_problems(&aws.with_edit(file, from, to));
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "{file}: {from:?} → {to:?}: {problems:#?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Alarms: every alert the code raises reaches people

/// The alarms' problems: an alarm that notifies nobody, an alarm on an event the code never
/// logs (or an alert kind it does not have), and a promised alert with no alarm.
fn alarm_problems(module: &Module) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, alarm) in module.resources("aws_cloudwatch_metric_alarm") {
        if attr_text(alarm.body(), "alarm_actions").as_deref() != Some("local.alarm_actions") {
            problems.push(format!(
                "alarm {name}: alarm_actions is not local.alarm_actions"
            ));
        }
    }
    let actions = module
        .locals()
        .into_iter()
        .find(|l| l.key() == "alarm_actions")
        .map(|l| squash(&text(l.expr())));
    if actions.as_deref() != Some("[aws_sns_topic.alarms.arn]") {
        problems.push(format!(
            "local.alarm_actions is {actions:?}, not the alarm topic"
        ));
    }
    let locals = evaluated_locals(module);
    let Some(Value::Object(events)) = locals.get("log_events") else {
        problems.push("local.log_events cannot be evaluated".into());
        return problems;
    };
    let code: String = ["functions/src", "shared/incidents/src"]
        .iter()
        .flat_map(|dir| {
            let mut files = Vec::new();
            rust_files(&repo().join(dir), &mut files);
            files
        })
        .map(|f| std::fs::read_to_string(f).unwrap_or_default())
        .collect();
    let quoted_after = |pattern: &str, field: &str| -> Option<String> {
        let rest = pattern.split(&format!("$.fields.{field} = \"")).nth(1)?;
        rest.split('"').next().map(str::to_string)
    };
    let mut alerted_kinds = BTreeSet::new();
    for (name, event) in events {
        let field = |key: &str| match event {
            Value::Object(fields) => fields.get(key).cloned(),
            _ => None,
        };
        let pattern = match field("pattern") {
            Some(Value::String(p)) => p,
            _ => String::new(),
        };
        let pattern = pattern.as_str();
        let Some(logged) = quoted_after(pattern, "event") else {
            problems.push(format!(
                "log event {name}: no $.fields.event in {pattern:?}"
            ));
            continue;
        };
        if !code.contains(&format!("event = \"{logged}\"")) {
            problems.push(format!(
                "log event {name}: the code never logs event {logged:?}"
            ));
        }
        if let Some(kind) = quoted_after(pattern, "kind") {
            let variants = code
                .split("pub enum AlertKind {")
                .nth(1)
                .and_then(|rest| rest.split('}').next())
                .unwrap_or_default();
            if !variants.contains(&format!("{kind},")) {
                problems.push(format!("log event {name}: AlertKind has no {kind}"));
            }
            if format!("{:?}", field("functions")).contains("deadline-watch") {
                alerted_kinds.insert(kind);
            }
        }
    }
    // The promises: a missed 48 h / 72 h deadline, one due soon and an undelivered notice
    // each page someone, from the deadline watch that raises them.
    for kind in ["Missed", "DueSoon", "Undelivered"] {
        if !alerted_kinds.contains(kind) {
            problems.push(format!("no alarm on the deadline watch's {kind} alerts"));
        }
    }
    problems
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read folder") {
        let path = entry.expect("folder entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_alert_the_code_raises_has_an_alarm_that_notifies() {
    let aws = Module::load("modules/aws");
    let problems = alarm_problems(&aws);
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_alarm_check_catches_silent_renamed_and_missing_alarms() {
    let aws = Module::load("modules/aws");
    for (from, to, expected) in [
        (
            "  alarm_actions       = local.alarm_actions\n  ok_actions",
            "  alarm_actions       = []\n  ok_actions",
            "alarm_actions is not",
        ),
        (
            "$.fields.event = \\\"origin_lock_rejected\\\"",
            "$.fields.event = \\\"origin_lock_refused\\\"",
            "never logs event \"origin_lock_refused\"",
        ),
        (
            "$.fields.kind = \\\"Missed\\\"",
            "$.fields.kind = \\\"Late\\\"",
            "AlertKind has no Late",
        ),
        (
            "functions   = [\"incidents\", \"deadline-watch\"]",
            "functions   = [\"incidents\"]",
            "Undelivered",
        ),
    ] {
        let problems = alarm_problems(&aws.with_edit("alarms.tf", from, to));
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "{from:?} → {to:?}: {problems:#?}"
        );
    }
}
