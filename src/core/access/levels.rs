//! Access levels (F8): the five built-ins, their per-object-type settings, each license's maxima,
//! and custom levels clamped to their license. Source: `shared/reference/access-levels.md`, the
//! digest of seed 004 ("Overzicht van nieuwe toegangsniveaus").

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// What an access level allows on an object type. Ordered: `NoAccess < View < Edit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LevelSetting {
    NoAccess,
    /// View and share.
    View,
    /// Create, edit, delete and share.
    Edit,
}

impl fmt::Display for LevelSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LevelSetting::NoAccess => "No access",
            LevelSetting::View => "View",
            LevelSetting::Edit => "Edit",
        })
    }
}

/// The seventeen object types of the access table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectType {
    Projects,
    Tasks,
    Issues,
    Portfolios,
    Programs,
    /// Reports, dashboards, calendars.
    Reports,
    /// Filters, views, groupings.
    Filters,
    Documents,
    Users,
    Teams,
    Templates,
    FinancialData,
    ResourceManagement,
    ScenarioPlanner,
    Boards,
    Home,
    Goals,
}

impl ObjectType {
    pub const ALL: [ObjectType; 17] = [
        ObjectType::Projects,
        ObjectType::Tasks,
        ObjectType::Issues,
        ObjectType::Portfolios,
        ObjectType::Programs,
        ObjectType::Reports,
        ObjectType::Filters,
        ObjectType::Documents,
        ObjectType::Users,
        ObjectType::Teams,
        ObjectType::Templates,
        ObjectType::FinancialData,
        ObjectType::ResourceManagement,
        ObjectType::ScenarioPlanner,
        ObjectType::Boards,
        ObjectType::Home,
        ObjectType::Goals,
    ];

    /// The name the access table uses, for explanations.
    pub fn label(self) -> &'static str {
        match self {
            ObjectType::Projects => "Projects",
            ObjectType::Tasks => "Tasks",
            ObjectType::Issues => "Issues",
            ObjectType::Portfolios => "Portfolios",
            ObjectType::Programs => "Programs",
            ObjectType::Reports => "Reports, dashboards, calendars",
            ObjectType::Filters => "Filters, views, groupings",
            ObjectType::Documents => "Documents",
            ObjectType::Users => "Users",
            ObjectType::Teams => "Teams",
            ObjectType::Templates => "Templates",
            ObjectType::FinancialData => "Financial data",
            ObjectType::ResourceManagement => "Resource management",
            ObjectType::ScenarioPlanner => "Scenario Planner",
            ObjectType::Boards => "Boards",
            ObjectType::Home => "Home",
            ObjectType::Goals => "Goals",
        }
    }

    /// The type of a Workfront object code in `accessLevelPermissions.objObjCode`, where the code
    /// names one of the table's rows. Codes for rows the API documents no code for return `None`.
    pub fn from_obj_code(code: &str) -> Option<Self> {
        Some(match code.to_ascii_uppercase().as_str() {
            "PROJ" => ObjectType::Projects,
            "TASK" => ObjectType::Tasks,
            "OPTASK" => ObjectType::Issues,
            "PORT" => ObjectType::Portfolios,
            "PRGM" => ObjectType::Programs,
            "PTLSEC" | "PTLTAB" | "CALEND" => ObjectType::Reports,
            "UIFT" | "UIVW" | "UIGB" => ObjectType::Filters,
            "DOCU" => ObjectType::Documents,
            "USER" => ObjectType::Users,
            "TEAMOB" => ObjectType::Teams,
            "TMPL" => ObjectType::Templates,
            _ => return None,
        })
    }
}

/// The license an access level is bound to; it caps what any level on it can grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum License {
    Standard,
    Light,
    Contributor,
    /// No paid license.
    External,
}

impl License {
    /// Workfront's `licenseType` letters (F, T, C, L, R, X). Adobe does not document their
    /// mapping to the new licenses; this follows the legacy names (Full → Standard, Team and
    /// Limited → Light, Review/Request and Contributor → Contributor, eXternal → External).
    pub fn from_license_type(letter: &str) -> Option<Self> {
        Some(match letter.trim().to_ascii_uppercase().as_str() {
            "F" => License::Standard,
            "T" | "L" => License::Light,
            "C" | "R" => License::Contributor,
            "X" => License::External,
            _ => return None,
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            License::Standard => "Standard",
            License::Light => "Light",
            License::Contributor => "Contributor",
            License::External => "External",
        }
    }
}

/// The five built-in access levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuiltinLevel {
    SystemAdministrator,
    Standard,
    Light,
    Contributor,
    External,
}

impl BuiltinLevel {
    pub const ALL: [BuiltinLevel; 5] = [
        BuiltinLevel::SystemAdministrator,
        BuiltinLevel::Standard,
        BuiltinLevel::Light,
        BuiltinLevel::Contributor,
        BuiltinLevel::External,
    ];

    pub fn label(self) -> &'static str {
        match self {
            BuiltinLevel::SystemAdministrator => "System Administrator",
            BuiltinLevel::Standard => "Standard",
            BuiltinLevel::Light => "Light",
            BuiltinLevel::Contributor => "Contributor",
            BuiltinLevel::External => "External",
        }
    }

    /// System Administrator is bound to the Standard license.
    pub fn license(self) -> License {
        match self {
            BuiltinLevel::SystemAdministrator | BuiltinLevel::Standard => License::Standard,
            BuiltinLevel::Light => License::Light,
            BuiltinLevel::Contributor => License::Contributor,
            BuiltinLevel::External => License::External,
        }
    }

    /// Recognises a built-in level by the name Workfront gives it.
    pub fn from_name(name: &str) -> Option<Self> {
        BuiltinLevel::ALL
            .into_iter()
            .find(|b| b.label().eq_ignore_ascii_case(name.trim()))
    }
}

/// One cell of the access table: the highest setting a license allows for an object type, what
/// the built-in level of that license grants by default, and the table's note on the cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    pub maximum: LevelSetting,
    pub default: LevelSetting,
    pub note: Option<&'static str>,
}

const fn cell(maximum: LevelSetting, default: LevelSetting, note: Option<&'static str>) -> Cell {
    Cell { maximum, default, note }
}

/// The access table, row by row, as the digest gives it.
pub fn cell_for(license: License, object: ObjectType) -> Cell {
    use LevelSetting::{Edit as E, NoAccess as N, View as V};
    use License::*;
    use ObjectType::*;
    match (object, license) {
        (Projects | Tasks, Standard) => cell(E, E, None),
        (Projects | Tasks, Light | Contributor) => cell(V, V, None),
        (Projects | Tasks, External) => cell(N, N, None),
        (Issues, Standard | Light | Contributor) => cell(E, E, None),
        (Issues, External) => cell(N, N, None),
        (Portfolios | Programs, Standard) => cell(E, E, None),
        (Portfolios | Programs, Light) => cell(V, N, Some("default: No access")),
        (Portfolios | Programs, Contributor | External) => cell(N, N, None),
        (Reports, Standard) => cell(E, E, None),
        (Reports, Light) => cell(V, V, None),
        (Reports, Contributor) => cell(V, V, Some("Details tab only")),
        (Reports, External) => cell(V, V, Some("calendar reports only; cannot share")),
        (Filters, Standard | Light | Contributor) => cell(E, E, None),
        (Filters, External) => cell(N, N, None),
        (Documents, Standard | Light | Contributor) => cell(E, E, None),
        (Documents, External) => cell(V, V, Some("cannot share documents")),
        (Users, Standard) => cell(E, E, None),
        (Users, Light | Contributor | External) => cell(V, V, None),
        // The seed's Standard table has no Teams row; Standard edits everything else (inferred).
        (Teams, Standard) => cell(E, E, Some("inferred: the seed's Standard table has no Teams row")),
        (Teams, Light | Contributor) => cell(V, V, None),
        (Teams, External) => cell(N, N, None),
        (Templates | FinancialData, Standard) => cell(E, E, None),
        (Templates | FinancialData, Light | Contributor | External) => cell(N, N, None),
        (ResourceManagement, Standard) => cell(E, E, None),
        (ResourceManagement, Light) => cell(V, V, None),
        (ResourceManagement, Contributor | External) => cell(N, N, None),
        (ScenarioPlanner, Standard | Light) => cell(E, N, Some("default: No access")),
        (ScenarioPlanner, Contributor | External) => cell(N, N, None),
        (Boards, Standard | Light) => cell(E, E, None),
        (Boards, Contributor) => cell(E, E, Some("simple cards")),
        (Boards, External) => cell(N, N, None),
        (Home, Standard | Light) => cell(E, E, None),
        (Home, Contributor) => cell(V, V, Some("My Updates")),
        (Home, External) => cell(N, N, None),
        (Goals, Standard | Light | Contributor) => cell(E, E, None),
        (Goals, External) => cell(N, N, None),
    }
}

/// Whose level it is: a built-in, or a custom copy bound to a license.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LevelKind {
    Builtin { level: BuiltinLevel },
    Custom { license: License },
}

/// A custom level's setting lowered to its license's maximum, kept for explanations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clamp {
    pub object: ObjectType,
    pub requested: LevelSetting,
    pub allowed: LevelSetting,
}

/// A user's access level: its name and what it allows per object type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessLevel {
    pub name: String,
    pub kind: LevelKind,
    settings: BTreeMap<ObjectType, LevelSetting>,
    /// Settings a custom level asked for above its license, and what they were lowered to.
    pub clamped: Vec<Clamp>,
}

impl AccessLevel {
    /// A built-in level with its default settings (System Administrator: Edit everywhere).
    pub fn builtin(level: BuiltinLevel) -> Self {
        let settings = ObjectType::ALL
            .into_iter()
            .map(|o| {
                let setting = match level {
                    BuiltinLevel::SystemAdministrator => LevelSetting::Edit,
                    _ => cell_for(level.license(), o).default,
                };
                (o, setting)
            })
            .collect();
        Self {
            name: level.label().to_owned(),
            kind: LevelKind::Builtin { level },
            settings,
            clamped: Vec::new(),
        }
    }

    /// A custom level: every requested setting is lowered to what `license` allows; object types
    /// it does not mention get No access (least privilege).
    pub fn custom(name: impl Into<String>, license: License, requested: &BTreeMap<ObjectType, LevelSetting>) -> Self {
        let mut clamped = Vec::new();
        let settings = ObjectType::ALL
            .into_iter()
            .map(|o| {
                let wanted = requested.get(&o).copied().unwrap_or(LevelSetting::NoAccess);
                let maximum = cell_for(license, o).maximum;
                if wanted > maximum {
                    clamped.push(Clamp {
                        object: o,
                        requested: wanted,
                        allowed: maximum,
                    });
                }
                (o, wanted.min(maximum))
            })
            .collect();
        Self {
            name: name.into(),
            kind: LevelKind::Custom { license },
            settings,
            clamped,
        }
    }

    pub fn is_system_administrator(&self) -> bool {
        matches!(
            self.kind,
            LevelKind::Builtin {
                level: BuiltinLevel::SystemAdministrator
            }
        )
    }

    pub fn setting(&self, object: ObjectType) -> LevelSetting {
        self.settings.get(&object).copied().unwrap_or(LevelSetting::NoAccess)
    }

    /// How to name the level in an explanation: `access level Light`, or for a custom one
    /// `access level "Reviewers" (custom, Light license)`.
    pub fn describe(&self) -> String {
        match &self.kind {
            LevelKind::Builtin { level } => format!("access level {}", level.label()),
            LevelKind::Custom { license } => {
                format!("access level {:?} (custom, {} license)", self.name, license.label())
            }
        }
    }

    /// Why `object` has its setting, when the level's own definition is not the whole story.
    pub fn note(&self, object: ObjectType) -> Option<String> {
        if let Some(c) = self.clamped.iter().find(|c| c.object == object) {
            return Some(format!(
                "it asks for {} but its license allows at most {}",
                c.requested, c.allowed
            ));
        }
        match &self.kind {
            LevelKind::Builtin {
                level: BuiltinLevel::SystemAdministrator,
            } => None,
            LevelKind::Builtin { level } => cell_for(level.license(), object).note.map(str::to_owned),
            LevelKind::Custom { .. } => None,
        }
    }
}
