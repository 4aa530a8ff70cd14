(()=>{document.body.dataset.console="loading";})();
