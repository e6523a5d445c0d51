//! The simulated vendors on loopback: one axum server hosting every simulated shop at
//! `http://127.0.0.1:{port}/{shop_domain}`, speaking the WooCommerce and Shopify wire formats,
//! with faults that can be switched on at run time. The demo and the tests use it.

pub mod data;
pub mod economic;
pub mod faults;
mod generate;
pub mod manifest;
mod names;
pub mod order;
mod query;
pub mod shopify;
mod shopify_json;
pub mod status;
pub mod woo;
mod woo_json;

use axum::Router;
use axum::extract::Request;
use axum::http::{StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::json;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use data::{SHOP_TZ, SimData, SimProduct, SimShop};
pub use faults::{Fault, Faults};
pub use manifest::{Manifest, ManifestCustomer};

/// How the simulated data set and the shops behave.
#[derive(Debug, Clone)]
pub struct SimOptions {
    pub seed: u64,
    /// The simulation's "now": orders lie in the three years before it.
    pub now: DateTime<Utc>,
    pub customers: usize,
    pub defects: DefectRates,
    /// Shopify's leaky bucket: requests leaked per second, and its capacity.
    pub shopify_leak_per_second: f64,
    pub shopify_bucket: u32,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            seed: 1,
            now: Utc::now(),
            customers: 40,
            defects: DefectRates::default(),
            shopify_leak_per_second: 2.0,
            shopify_bucket: 40,
        }
    }
}

/// Shares of products and orders with a defect that makes an import fail.
#[derive(Debug, Clone, PartialEq)]
pub struct DefectRates {
    /// Products without a SKU in the shop.
    pub empty_sku: f64,
    /// Orders without a phone number anywhere.
    pub no_phone: f64,
    /// Orders without a buyer name.
    pub no_name: f64,
    /// Products the accounting system does not have.
    pub product_missing_in_accounting: f64,
}

impl Default for DefectRates {
    fn default() -> Self {
        DefectRates { empty_sku: 0.02, no_phone: 0.04, no_name: 0.01, product_missing_in_accounting: 0.08 }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("the simulator cannot listen on {addr}: {source} (is the port taken? use --port 0 for any free port)")]
    Bind { addr: SocketAddr, source: std::io::Error },
    #[error("the simulator failed while serving: {0}")]
    Serve(std::io::Error),
    #[error("cannot write or read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the simulator's manifest is not valid JSON: {detail}")]
    Manifest { detail: String },
    #[error("generating the simulated data failed: {0}")]
    Generate(String),
}

/// What every handler sees: the data, the faults and the Shopify buckets.
#[derive(Clone)]
pub struct SimState {
    pub data: Arc<SimData>,
    pub faults: Arc<Faults>,
    pub(crate) buckets: Arc<shopify::Buckets>,
    /// Names of the mounted systems (`economic`), which faults can target too.
    pub(crate) mounted: Arc<Vec<String>>,
}

impl SimState {
    pub fn new(data: Arc<SimData>, opts: &SimOptions) -> SimState {
        SimState {
            data,
            faults: Arc::new(Faults::default()),
            buckets: Arc::new(shopify::Buckets::new(opts.shopify_bucket, opts.shopify_leak_per_second)),
            mounted: Arc::new(Vec::new()),
        }
    }
}

/// A router another simulated system adds beside the shops, and the path prefix it is
/// nested under (the e-conomic simulator: `/economic`).
pub type Mount = (String, Router);

/// The routers of the simulated accounting systems, built from the data set they seed
/// themselves from: the e-conomic simulator at `/economic`.
fn accounting_mounts(data: &Arc<SimData>) -> Vec<Mount> {
    vec![("/economic".into(), economic::router_for(data))]
}

/// Every shop route, the control endpoints under `/_sim`, and the extra mounts. A mount
/// answers the faults set for its name (`/economic`: `POST /_sim/faults/economic`), in
/// e-conomic's error shape.
pub fn router(mut state: SimState, mounts: Vec<Mount>) -> Router {
    let names: Vec<String> = mounts.iter().map(|(prefix, _)| prefix.trim_matches('/').to_ascii_lowercase()).collect();
    state.mounted = Arc::new(names.clone());
    let faults = state.faults.clone();
    let mut app = Router::new()
        .merge(woo::routes())
        .merge(shopify::routes())
        .merge(faults::control_routes())
        .fallback(no_such_endpoint)
        .with_state(state);
    for ((prefix, mounted), name) in mounts.into_iter().zip(names) {
        let faults = faults.clone();
        let guarded = mounted.layer(axum::middleware::from_fn(move |request: Request, next: Next| {
            let (faults, name) = (faults.clone(), name.clone());
            async move {
                match faults::apply(&faults, &name, faults::Vendor::Economic).await {
                    Some(faulty) => faulty,
                    None => next.run(request).await,
                }
            }
        }));
        app = app.nest(&prefix, guarded);
    }
    app
}

/// A 404 in the shape of the vendor the path looks like.
async fn no_such_endpoint(uri: Uri) -> Response {
    let path = uri.path();
    if path.contains("/wp-json/") {
        woo::no_route()
    } else if path.contains("/admin/api/") {
        (StatusCode::NOT_FOUND, axum::Json(json!({"errors": "Not Found"}))).into_response()
    } else {
        let message = format!(
            "the simulator has no endpoint at {path}: shops live at /{{shop_domain}}/wp-json/wc/v3/… or \
             /{{shop_domain}}/admin/api/{{version}}/…; see GET /_sim/manifest"
        );
        (StatusCode::NOT_FOUND, message).into_response()
    }
}

/// A simulator serving on loopback until [`RunningSim::shutdown`] (or until dropped).
pub struct RunningSim {
    pub addr: SocketAddr,
    pub manifest: Manifest,
    pub data: Arc<SimData>,
    pub state: SimState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// Binds `127.0.0.1:{port}` (0: any free port), generates the data set and serves it. Returns
/// once the server is listening.
pub async fn start(opts: SimOptions, port: u16) -> Result<RunningSim, SimError> {
    start_with(opts, port, accounting_mounts).await
}

/// [`start`] with other routers mounted beside the shops, built from the data set.
pub async fn start_with<F>(opts: SimOptions, port: u16, mounts: F) -> Result<RunningSim, SimError>
where
    F: FnOnce(&Arc<SimData>) -> Vec<Mount>,
{
    let wanted = SocketAddr::from(([127, 0, 0, 1], port));
    let listener =
        tokio::net::TcpListener::bind(wanted).await.map_err(|source| SimError::Bind { addr: wanted, source })?;
    let addr = listener.local_addr().map_err(SimError::Serve)?;
    let base_url = format!("http://{addr}");
    let generate_opts = opts.clone();
    let data = tokio::task::spawn_blocking(move || SimData::generate(&generate_opts, &base_url))
        .await
        .map_err(|e| SimError::Generate(e.to_string()))?;
    let data = Arc::new(data);
    let state = SimState::new(data.clone(), &opts);
    let app = router(state.clone(), mounts(&data));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async {
        let _ = stopped.await;
    });
    let task = tokio::spawn(std::future::IntoFuture::into_future(server));
    tracing::info!(%addr, shops = data.customers.len(), "simulator listening");
    Ok(RunningSim { addr, manifest: data.manifest(), data, state, stop: Some(stop), task: Some(task) })
}

impl RunningSim {
    /// `http://127.0.0.1:{port}`; a shop's URL is this plus `/{shop_domain}`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The base URL of the shop with this domain.
    pub fn shop_url(&self, domain: &str) -> String {
        format!("{}/{domain}", self.base_url())
    }

    /// Makes the shop (or `economic`) misbehave; an empty fault clears it.
    pub fn set_fault(&self, target: &str, fault: Fault) {
        self.state.faults.set(target, fault);
    }

    pub fn clear_fault(&self, target: &str) {
        self.state.faults.clear(target);
    }

    pub fn faults(&self) -> &Faults {
        &self.state.faults
    }

    /// Stops accepting, lets requests in flight finish (for up to 5 s), and returns.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(5), &mut task).await.is_err()
        {
            task.abort();
        }
    }
}

impl Drop for RunningSim {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// `importdesk sim`: serves until Ctrl-C or SIGTERM. Writes the manifest once listening (to
/// `manifest_path`, or a file in the temp directory) and prints the address and its path.
pub async fn run_standalone(opts: SimOptions, port: u16, manifest_path: Option<PathBuf>) -> Result<(), SimError> {
    let sim = start(opts, port).await?;
    let path =
        manifest_path.unwrap_or_else(|| std::env::temp_dir().join(format!("importdesk-sim-{}.json", sim.addr.port())));
    sim.manifest.write(&path)?;
    println!("importdesk simulator listening on {}", sim.base_url());
    println!("manifest: {}", path.display());
    print_shops(&sim.manifest, &path);
    wait_for_stop_signal().await;
    println!("stopping the simulator");
    sim.shutdown().await;
    Ok(())
}

fn print_shops(manifest: &Manifest, path: &Path) {
    for c in &manifest.customers {
        println!(
            "  {:<12} {:>7} orders  {:<28} {}",
            c.webshop.display_name(),
            crate::domain::money::format_count(c.orders),
            c.name,
            c.shop_url
        );
    }
    println!("keys and tokens are in {}", path.display());
}

async fn wait_for_stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
