//! What a credential may do. Sign-in credentials (web sessions, API tokens) have full access;
//! an app's token carries the scopes its user approved, and nothing else.

use std::fmt;

/// One permission an app can be given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Profile,
    LibraryRead,
    PlaylistsRead,
    PlaylistsWrite,
    Stream,
    Export,
}

impl Scope {
    pub const ALL: [Scope; 6] = [
        Scope::Profile,
        Scope::LibraryRead,
        Scope::PlaylistsRead,
        Scope::PlaylistsWrite,
        Scope::Stream,
        Scope::Export,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Profile => "profile",
            Scope::LibraryRead => "library:read",
            Scope::PlaylistsRead => "playlists:read",
            Scope::PlaylistsWrite => "playlists:write",
            Scope::Stream => "stream",
            Scope::Export => "export",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// What the scope allows, in plain words for the consent page.
    pub fn describe(self) -> &'static str {
        match self {
            Scope::Profile => "See your user name",
            Scope::LibraryRead => "Browse and search your music library",
            Scope::PlaylistsRead => "See your playlists",
            Scope::PlaylistsWrite => "Create, change and delete your playlists",
            Scope::Stream => "Play your music (stream songs and cover art)",
            Scope::Export => "Convert songs to files you keep, and download them",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of scopes, written as the space-separated list OAuth uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct ScopeSet(u8);

/// A scope list that names a scope Clef does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownScope(pub String);

impl fmt::Display for UnknownScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown scope: {}", self.0)
    }
}

impl std::error::Error for UnknownScope {}

impl ScopeSet {
    pub const EMPTY: ScopeSet = ScopeSet(0);

    /// Parses a space-separated list; any unknown name refuses the whole list.
    pub fn parse(s: &str) -> Result<ScopeSet, UnknownScope> {
        let mut set = ScopeSet::EMPTY;
        for word in s.split(' ').filter(|w| !w.is_empty()) {
            let scope = Scope::parse(word).ok_or_else(|| UnknownScope(word.to_owned()))?;
            set = set.with(scope);
        }
        Ok(set)
    }

    pub fn with(self, scope: Scope) -> ScopeSet {
        ScopeSet(self.0 | scope.bit())
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// Whether every scope of `other` is in this set.
    pub fn covers(self, other: ScopeSet) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn union(self, other: ScopeSet) -> ScopeSet {
        ScopeSet(self.0 | other.0)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for s in self.iter() {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(s.as_str())?;
            first = false;
        }
        Ok(())
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        iter.into_iter().fold(ScopeSet::EMPTY, ScopeSet::with)
    }
}

/// What a credential may reach: everything (a sign-in of the account's owner), or the scopes an
/// app was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Full,
    Scoped(ScopeSet),
}

impl Access {
    pub fn allows(self, scope: Scope) -> bool {
        match self {
            Access::Full => true,
            Access::Scoped(set) => set.contains(scope),
        }
    }

    pub fn is_full(self) -> bool {
        self == Access::Full
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_back_and_unknown_names_refuse_the_list() {
        let set = ScopeSet::parse("stream  library:read profile").unwrap();
        assert_eq!(set.to_string(), "profile library:read stream");
        assert_eq!(ScopeSet::parse(&set.to_string()).unwrap(), set);
        assert_eq!(
            ScopeSet::parse("stream admin"),
            Err(UnknownScope("admin".into()))
        );
        assert_eq!(ScopeSet::parse("").unwrap(), ScopeSet::EMPTY);
        assert!(
            ScopeSet::parse("Stream").is_err(),
            "names are case-sensitive"
        );
    }

    #[test]
    fn access_allows_only_what_it_was_given() {
        let set = ScopeSet::parse("playlists:read").unwrap();
        assert!(Access::Scoped(set).allows(Scope::PlaylistsRead));
        assert!(!Access::Scoped(set).allows(Scope::PlaylistsWrite));
        assert!(Access::Full.allows(Scope::Export));
        assert!(set.union(ScopeSet::parse("stream").unwrap()).covers(set));
    }
}
