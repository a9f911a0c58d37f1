//! The domain plugins every hub has, whether or not the demo data is loaded: a repository
//! names its domain when it is created, so a fresh hub without them could create none.

use musehub_mcp::serde_json::{Value, json};

use crate::db::{Db, new_id, now};

/// One built-in domain plugin, published by `muse`.
struct Builtin {
    slug: &'static str,
    name: &'static str,
    description: &'static str,
    viewer: &'static str,
    capabilities: fn() -> Value,
}

/// The built-in domains: those the catalogue's descriptions name (MIDI, code, genomics,
/// circuit design). `@muse/midi` is the default of `musehub_create_repo`.
const BUILTIN: &[Builtin] = &[
    Builtin {
        slug: "midi",
        name: "MIDI",
        description: "Symbolic music: notes, velocities, controllers, tempo maps, across 21 dimensions.",
        viewer: "piano_roll",
        capabilities: || json!({"dimensions": ["melodic", "harmonic", "rhythmic", "structural", "dynamic"], "merge": "per-dimension three-way", "file_types": [".mid", ".musicxml"]}),
    },
    Builtin {
        slug: "code",
        name: "Code",
        description: "Source code in ten languages, diffed by syntax tree.",
        viewer: "code",
        capabilities: || json!({"dimensions": ["syntax", "semantics"], "languages": 10}),
    },
    Builtin {
        slug: "genomics",
        name: "Genomics",
        description: "Sequences and annotations (FASTA, GFF, VCF), versioned per feature.",
        viewer: "sequence",
        capabilities: || json!({"dimensions": ["sequence", "annotations", "variants"], "file_types": [".fasta", ".gff", ".vcf"]}),
    },
    Builtin {
        slug: "circuit",
        name: "Circuit Design",
        description: "Schematics and board layouts, versioned per net and per layer.",
        viewer: "schematic",
        capabilities: || json!({"dimensions": ["netlist", "placement", "routing"], "file_types": [".kicad_sch", ".kicad_pcb"]}),
    },
];

/// Registers the built-in domains that are missing (idempotent; runs at every start).
pub async fn ensure_builtin(db: &Db) -> Result<(), sqlx::Error> {
    for d in BUILTIN {
        sqlx::query(
            "INSERT INTO domains (id, author_slug, slug, display_name, description, capabilities, viewer_type, version, verified, published_by, created_at) \
             VALUES ($1, 'muse', $2, $3, $4, $5, $6, '1.0.0', 1, 'muse', $7) ON CONFLICT (author_slug, slug) DO NOTHING",
        )
        .bind(new_id())
        .bind(d.slug)
        .bind(d.name)
        .bind(d.description)
        .bind((d.capabilities)().to_string())
        .bind(d.viewer)
        .bind(now())
        .execute(db.pool())
        .await?;
    }
    Ok(())
}
