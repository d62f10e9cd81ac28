//! Type signatures of the Bevy 0.19 items the exported snippet touches; bodies do nothing.
#![allow(dead_code, unused_variables)]

pub mod prelude {
    use std::marker::PhantomData;
    use std::ops::{Deref, DerefMut};
    use std::time::Duration;

    pub use bevy_stub_derive::Component;

    pub trait Component {}
    pub trait Bundle {}
    macro_rules! bundle_tuples {
        ($($name:ident),+) => { impl<$($name: Component),+> Bundle for ($($name,)+) {} };
    }
    bundle_tuples!(A);
    bundle_tuples!(A, B);
    bundle_tuples!(A, B, C);
    bundle_tuples!(A, B, C, D);
    bundle_tuples!(A, B, C, D, E);

    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct UVec2 { pub x: u32, pub y: u32 }
    impl UVec2 {
        pub const fn new(x: u32, y: u32) -> Self { Self { x, y } }
        pub const fn splat(v: u32) -> Self { Self { x: v, y: v } }
    }
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct Vec2 { pub x: f32, pub y: f32 }
    impl Vec2 { pub const fn new(x: f32, y: f32) -> Self { Self { x, y } } }
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct Vec3 { pub x: f32, pub y: f32, pub z: f32 }
    impl Vec3 { pub const fn splat(v: f32) -> Self { Self { x: v, y: v, z: v } } }
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct URect { pub min: UVec2, pub max: UVec2 }
    impl URect {
        pub fn new(x0: u32, y0: u32, x1: u32, y1: u32) -> Self { Self { min: UVec2::new(x0, y0), max: UVec2::new(x1, y1) } }
    }

    pub struct Handle<A>(PhantomData<A>);
    impl<A> Clone for Handle<A> { fn clone(&self) -> Self { Handle(PhantomData) } }
    pub struct Image;
    pub struct AssetServer;
    impl AssetServer {
        pub fn load<A>(&self, path: &'static str) -> Handle<A> { Handle(PhantomData) }
    }
    pub struct Assets<A>(PhantomData<A>);
    impl<A> Assets<A> {
        pub fn add(&mut self, asset: impl Into<A>) -> Handle<A> { Handle(PhantomData) }
    }

    pub struct TextureAtlasLayout { pub size: UVec2, pub textures: Vec<URect> }
    impl TextureAtlasLayout {
        pub fn new_empty(dimensions: UVec2) -> Self { Self { size: dimensions, textures: Vec::new() } }
        pub fn from_grid(tile_size: UVec2, columns: u32, rows: u32, padding: Option<UVec2>, offset: Option<UVec2>) -> Self {
            Self::new_empty(tile_size)
        }
        pub fn add_texture(&mut self, rect: URect) -> usize { self.textures.push(rect); self.textures.len() - 1 }
    }
    pub struct TextureAtlas { pub layout: Handle<TextureAtlasLayout>, pub index: usize }

    pub struct Sprite { pub image: Handle<Image>, pub texture_atlas: Option<TextureAtlas>, pub flip_x: bool }
    impl Component for Sprite {}
    impl Sprite {
        pub fn from_atlas_image(image: Handle<Image>, atlas: TextureAtlas) -> Self {
            Self { image, texture_atlas: Some(atlas), flip_x: false }
        }
    }
    pub struct Transform;
    impl Component for Transform {}
    impl Transform { pub fn from_scale(scale: Vec3) -> Self { Transform } }

    pub enum TimerMode { Once, Repeating }
    pub struct Timer;
    impl Timer {
        pub fn new(duration: Duration, mode: TimerMode) -> Self { Timer }
        pub fn from_seconds(duration: f32, mode: TimerMode) -> Self { Timer }
        pub fn tick(&mut self, delta: Duration) -> &Self { self }
        pub fn just_finished(&self) -> bool { false }
    }
    pub struct Time;
    impl Time { pub fn delta(&self) -> Duration { Duration::ZERO } }

    pub struct Res<'w, T>(&'w T);
    impl<T> Deref for Res<'_, T> { type Target = T; fn deref(&self) -> &T { self.0 } }
    pub struct ResMut<'w, T>(&'w mut T);
    impl<T> Deref for ResMut<'_, T> { type Target = T; fn deref(&self) -> &T { self.0 } }
    impl<T> DerefMut for ResMut<'_, T> { fn deref_mut(&mut self) -> &mut T { self.0 } }
    pub struct Mut<'w, T>(&'w mut T);
    impl<T> Deref for Mut<'_, T> { type Target = T; fn deref(&self) -> &T { self.0 } }
    impl<T> DerefMut for Mut<'_, T> { fn deref_mut(&mut self) -> &mut T { self.0 } }

    pub struct EntityCommands;
    pub struct Commands;
    impl Commands { pub fn spawn<B: Bundle>(&mut self, bundle: B) -> EntityCommands { EntityCommands } }

    pub struct Query<'w, 's, D: QueryData>(PhantomData<(&'w (), &'s (), D)>);
    pub trait QueryData { type Item<'a>; }
    impl<'d, A: Component + 'static> QueryData for &'d mut A { type Item<'a> = Mut<'a, A>; }
    impl<A: QueryData, B: QueryData> QueryData for (A, B) { type Item<'a> = (A::Item<'a>, B::Item<'a>); }
    impl<A: QueryData, B: QueryData, C: QueryData> QueryData for (A, B, C) {
        type Item<'a> = (A::Item<'a>, B::Item<'a>, C::Item<'a>);
    }
    impl<'a, 'w, 's, D: QueryData> IntoIterator for &'a mut Query<'w, 's, D> {
        type Item = D::Item<'a>;
        type IntoIter = std::vec::IntoIter<D::Item<'a>>;
        fn into_iter(self) -> Self::IntoIter { Vec::new().into_iter() }
    }
}

pub mod sprite {
    use crate::prelude::{Component, Vec2};

    /// `bevy::sprite::Anchor` (a required component of Sprite since 0.17): x right, y up, -0.5..0.5.
    #[derive(Clone, Copy, Debug, PartialEq)]
    pub struct Anchor(pub Vec2);
    impl Component for Anchor {}
}
